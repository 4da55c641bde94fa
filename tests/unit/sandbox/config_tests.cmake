vmrt_gtest(unit_sandbox_config unit
  SOURCES config_parse_test.cpp config_annotations_test.cpp config_file_test.cpp
    config_fields_test.cpp
  LIBS vmrt_sandbox_config)
# The generated development configuration must parse; the documentation's
# table of keys must match the field table.
target_compile_definitions(unit_sandbox_config PRIVATE
  VMRT_DEV_CONFIG="${CMAKE_BINARY_DIR}/vmrt-dev.toml"
  VMRT_CONFIG_DOC="${PROJECT_SOURCE_DIR}/docs/configuration.md")
