from monitor.errors import SchemaError as SchemaError  # defined apart, so the command line can name it cheaply
