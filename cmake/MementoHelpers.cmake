# Helpers shared by every folder's CMakeLists.txt.

# Warnings are errors in our own targets only; third-party headers come in as SYSTEM.
function(memento_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror
    -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
  # g++ 12 at -O2/-O3 reports -Wrestrict false positives inside inlined std::string
  # code (GCC bug 105329): any string concatenation can trip it. Clang keeps checking.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
endfunction()

# memento_library(NAME SOURCES... [DEPS ...]): one library per folder.
function(memento_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  memento_warnings(${name})
endfunction()

# memento_test(SOURCE DEPS libs...): one gtest binary per *_test.cc, collected by ctest.
# Each test links only the libraries it names, so a module's tests build without the
# layers above it.
function(memento_test source)
  if(NOT MEMENTO_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  memento_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
