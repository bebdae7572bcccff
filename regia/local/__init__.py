"""What `regia up` runs on one machine: embedded PostgreSQL, broker and SMTP catcher
(embedded/, mailcatcher), the four services and the console as supervised children
(stack, supervision), and the command itself (up)."""
