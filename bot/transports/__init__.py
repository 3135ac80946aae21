"""Platform adapters. Only modules in this package import a platform library."""
