// Compiled the way the core's own sources are (against raft/core's include
// root only): every core header is found. The control of
// core_includes_driver.cc.
#include "raft/core/core.h"
