"""The `portal-console` program: it reads the configuration, opens the database and starts
whichever front end is asked for (the Textual console, the customer portal, the mailer) or
runs one command against the service layer. Nothing imports this package."""
