"""Built-in plugins of ScriptBatch (loaded by the plugin service)."""
