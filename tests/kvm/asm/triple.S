#include "layout.inc"
	.text
	.code32
start:
	ud2
#include "reset_vector.inc"
