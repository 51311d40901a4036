from socialleads.cli.main import main

main()
