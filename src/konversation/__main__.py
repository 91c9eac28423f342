from konversation.cli.main import app

app()
