// reef-storage: the storage inspection tool on its own (prod/storage_tool.h);
// `reefdb storage` runs the same code.
#include "prod/storage_tool.h"

int main(int argc, char** argv) { return reef::prod::run_storage_tool(argc, argv); }
