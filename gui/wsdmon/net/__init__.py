"""wsdmon.net: asyncio I/O (discovery, SOAP client, notification sink, subscriptions). Never Qt."""
