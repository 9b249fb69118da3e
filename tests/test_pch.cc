// The translation unit that builds the precompiled headers of the test
// suites (tests/CMakeLists.txt, reef_test_pch); it has no code of its own.
