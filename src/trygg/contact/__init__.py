"""trygg.contact: who is connected to whom, and the gates on contact with minors."""
