"""Console views. Other apps build their pages on ``helpdesk.console.views.base``."""
