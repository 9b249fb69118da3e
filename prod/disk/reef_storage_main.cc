// reef-storage: the storage inspection tool on its own (prod/disk/storage_tool.h);
// `reefdb storage` runs the same code.
#include "prod/disk/storage_tool.h"

int main(int argc, char** argv) { return reef::prod::run_storage_tool(argc, argv); }
