"""Commands that live in their own module (registered in xlperf.cli); heavy imports stay inside the functions."""
