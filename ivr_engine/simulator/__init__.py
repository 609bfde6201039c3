"""``ivr-engine simulate``: a call walked through the menus in the terminal, without
Asterisk. The same interpreter and nodes run as on a real call; the channel shows prompts
as text and takes scripted keys (walk.py), and queue nodes wait at a desk on a simulated
clock (desk.py). Nothing here writes to the live ACD."""
