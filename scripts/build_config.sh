# Sourced by scripts/run.sh and scripts/test.sh: how the main build tree
# (build/) is configured, so the two scripts share it instead of rebuilding
# each other's objects.
#
# -O2 like RelWithDebInfo but without -g: debug info is a third of the
# compile time of this template-heavy code (Beast, FlatBuffers, gtest), and
# REEF_ASSERT stays on in every build type. For a debugger, configure your
# own tree with -DCMAKE_BUILD_TYPE=RelWithDebInfo (the project default).
configure_main_build() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
}
