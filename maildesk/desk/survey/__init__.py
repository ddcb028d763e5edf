"""The satisfaction survey after a resolution: scheduled, sent, answered, and the close."""
