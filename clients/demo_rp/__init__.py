"""Demo relying party: logs a tester in through the provider and shows what came back."""
