"""Pure-Python writers for the binary VBA project of the xlperf add-in (MS-CFB + MS-OVBA)."""
