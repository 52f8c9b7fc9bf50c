{
  "targets": [
    {
      "target_name": "tsync_native",
      "sources": ["native/list_dir.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
