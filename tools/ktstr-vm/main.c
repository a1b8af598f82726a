#include "diag.h"

int main(int argc, char **argv)
{
	diag_init(argv[0]);
	die("not implemented yet");
}
