"""The counter's work: open a verification from a read document, run the live check on the captured frames,
register a number within the caps, and the live feedback the kiosk shows while the customer is in front of it."""
