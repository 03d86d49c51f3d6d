from button.cli import main

main()
