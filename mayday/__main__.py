from mayday.cli import main

main()
