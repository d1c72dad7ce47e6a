#include "layout.inc"
	.text
	.code32
start:
	hlt
#include "reset_vector.inc"
