// Compiled the way the core's own sources are: a driver header is not there
// to be found, so the core cannot depend on the driver (raft/CMakeLists.txt).
#include "raft/driver/node.h"
