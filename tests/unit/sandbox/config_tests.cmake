vmrt_gtest(unit_sandbox_config unit
  SOURCES config_parse_test.cpp config_annotations_test.cpp config_file_test.cpp
  LIBS vmrt_sandbox_config)
# The generated development configuration must parse.
target_compile_definitions(unit_sandbox_config PRIVATE
  VMRT_DEV_CONFIG="${CMAKE_BINARY_DIR}/vmrt-dev.toml")
