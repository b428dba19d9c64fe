"""Helpdesk connectors: one module per helpdesk behind `base.Connector`."""
