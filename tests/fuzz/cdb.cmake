# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
# fuzz_cdb: random CDBs through the SCSI engine on RAM devices
# (fuzz_scsi_cdb.c; the file is not named fuzz_cdb.c so that the generic
# loop of tests/fuzz/CMakeLists.txt, which links tcmu_static only, skips it).
# libFuzzer build with clang and -DFUZZ=ON, else a random-run program that
# ctest runs briefly.  Included from tests/unit/CMakeLists.txt (and may be
# included from tests/fuzz/CMakeLists.txt too: guarded).
include_guard(GLOBAL)

if(NOT TARGET fuzz_cdb)
  add_executable(fuzz_cdb ${CMAKE_CURRENT_LIST_DIR}/fuzz_scsi_cdb.c)
  target_link_libraries(fuzz_cdb PRIVATE tcmu_scsi_testsupport tcmu_scsi_engine)
  if(FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    # Coverage feedback needs the code under test instrumented too.
    foreach(t tcmu_scsi_engine tcmu_scsi_testsupport)
      target_compile_options(${t} PRIVATE -fsanitize=fuzzer-no-link,address)
    endforeach()
    target_compile_definitions(fuzz_cdb PRIVATE FUZZ_LIBFUZZER)
    target_compile_options(fuzz_cdb PRIVATE -fsanitize=fuzzer,address)
    target_link_options(fuzz_cdb PRIVATE -fsanitize=fuzzer,address)
  else()
    add_test(NAME fuzz-cdb-short COMMAND fuzz_cdb -n 20000)
    set_tests_properties(fuzz-cdb-short PROPERTIES TIMEOUT 120)
  endif()
endif()
