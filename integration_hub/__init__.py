"""integration-hub: connect each company's ERP / e-invoice providers and Karbon, collect daily."""

__version__ = "0.1.0"
