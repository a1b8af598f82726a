/* Placeholder PID 1 until the VM work lands. */
#include "guest.h"

int main(void)
{
	return 125;
}
