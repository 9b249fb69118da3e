// Compiled the way the ports' sources are: the driver is not there either.
#include "raft/driver/node.h"
