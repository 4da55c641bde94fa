# vmrt_cli_spec: the documents `vmrt spec` and `vmrt features` print.
add_library(vmrt_cli_spec STATIC default_spec.cpp features.cpp)
target_link_libraries(vmrt_cli_spec PUBLIC vmrt_sandbox_config vmrt_common)
target_compile_definitions(vmrt_cli_spec PRIVATE VMRT_VERSION="${PROJECT_VERSION}")
