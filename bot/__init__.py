"""SafeSafar: a multilingual awareness assistant against human trafficking and migrant smuggling."""
