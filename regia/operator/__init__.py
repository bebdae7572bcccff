"""The operators' commands, one module per command group (`regia keys`, `regia plan`,
`regia poison`, ...), calling the services' admin APIs through admin.ServiceClient."""
