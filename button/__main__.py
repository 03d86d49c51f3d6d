from button.cli import entry

entry()
