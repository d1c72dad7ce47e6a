#include "layout.inc"
	.text
	.code32
start:
	jmp start
#include "reset_vector.inc"
