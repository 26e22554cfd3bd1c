"""The register of licensed Overseas Employment Promoters (OEPs) published by the Bureau of Emigration &
Overseas Employment (BE&OE): licence numbers, the parsers of its saved pages, CSV and notices, the import
diff and the name matcher. Channel-free and storage-free: bot/storage/register_store.py stores it."""
