"""Persistence: the database schema and access, and blob storage for parts and files."""
