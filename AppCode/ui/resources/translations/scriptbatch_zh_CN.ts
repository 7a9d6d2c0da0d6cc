<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AddUserDialog</name>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="52"/>
        <source>Add user</source>
        <translation>添加用户</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="58"/>
        <source>empty: API tokens only</source>
        <translation>留空：仅使用 API 令牌</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="65"/>
        <source>User name:</source>
        <translation>用户名：</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="66"/>
        <source>Role:</source>
        <translation>角色：</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="67"/>
        <source>Password:</source>
        <translation>密码：</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="68"/>
        <source>Repeat password:</source>
        <translation>再次输入密码：</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="79"/>
        <source>Enter a user name.</source>
        <translation>请输入用户名。</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="81"/>
        <source>The two passwords differ.</source>
        <translation>两次输入的密码不一致。</translation>
    </message>
</context>
<context>
    <name>AnalysisView</name>
    <message>
        <location filename="../../views/analysis_view.py" line="176"/>
        <source>Batch id or prefix (optional)</source>
        <translation>批处理 ID 或前缀（可选）</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="177"/>
        <source>Also say what held this batch back: CPU, memory or disk</source>
        <translation>同时分析是什么拖慢了这个批处理：CPU、内存还是磁盘</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="181"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="182"/>
        <source>Show history</source>
        <translation>查看历史记录</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="183"/>
        <source>Show the past runs of the selected script</source>
        <translation>查看所选脚本过去的运行记录</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="185"/>
        <source>Analysing…</source>
        <translation>正在分析…</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="215"/>
        <source>Press Refresh to analyse the recorded runs.</source>
        <translation>点击“刷新”分析已记录的运行。</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="218"/>
        <source>Batch:</source>
        <translation>批处理：</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="271"/>
        <source>Nothing stands out.</source>
        <translation>没有发现值得注意的问题。</translation>
    </message>
</context>
<context>
    <name>ApiServerDialog</name>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="118"/>
        <source>API server</source>
        <translation>API 服务器</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="41"/>
        <source>127.0.0.1 answers this computer only; 0.0.0.0 answers the network</source>
        <translation>127.0.0.1 只响应本机；0.0.0.0 响应整个网络</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="52"/>
        <source>New API token for me…</source>
        <translation>为我创建 API 令牌…</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="53"/>
        <source>Programs call the API with a token: &apos;Authorization: Bearer &lt;token&gt;&apos;. The server stops when ScriptBatch closes.</source>
        <translation>程序调用 API 时需携带令牌：'Authorization: Bearer &lt;令牌&gt;'。ScriptBatch 关闭时服务器随之停止。</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="64"/>
        <source>Address:</source>
        <translation>地址：</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="65"/>
        <source>Port:</source>
        <translation>端口：</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="66"/>
        <source>Status:</source>
        <translation>状态：</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="100"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="100"/>
        <source>Start</source>
        <translation>启动</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="103"/>
        <source>Listening on {0} (&lt;a href=&apos;{1}&apos;&gt;interactive docs&lt;/a&gt;)</source>
        <translation>正在监听 {0}（&lt;a href='{1}'&gt;交互式文档&lt;/a&gt;）</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="109"/>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <location filename="../../dialogs/api_server_dialog.py" line="111"/>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
</context>
<context>
    <name>ApiServerViewModel</name>
    <message>
        <location filename="../../viewmodels/api_server_viewmodel.py" line="94"/>
        <source>The API server stopped (exit code {0}).</source>
        <translation>API 服务器已停止（退出码 {0}）。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/api_server_viewmodel.py" line="101"/>
        <source>The API server could not start: {0}</source>
        <translation>API 服务器无法启动：{0}</translation>
    </message>
</context>
<context>
    <name>BackupListDialog</name>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="249"/>
        <source>{count} backup(s), {size}, in {folder}</source>
        <translation>{count} 个备份，共 {size}，位于 {folder}</translation>
    </message>
</context>
<context>
    <name>BackupTable</name>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="116"/>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="116"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="116"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="116"/>
        <source>Verified</source>
        <translation>校验</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="116"/>
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="139"/>
        <source>manual</source>
        <translation>手动</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="140"/>
        <source>scheduled</source>
        <translation>定时</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="141"/>
        <source>before a restore</source>
        <translation>恢复前</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="142"/>
        <source>before an upgrade</source>
        <translation>升级前</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="148"/>
        <source>not verified</source>
        <translation>未校验</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="153"/>
        <source>valid ({when})</source>
        <translation>有效（{when}）</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="153"/>
        <source>valid</source>
        <translation>有效</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="155"/>
        <source>INVALID ({when})</source>
        <translation>无效（{when}）</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="155"/>
        <source>INVALID</source>
        <translation>无效</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="163"/>
        <source>{path}
ScriptBatch {version} · run logs: {logs}</source>
        <translation>{path}
ScriptBatch {version} · 运行日志：{logs}</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="163"/>
        <source>included</source>
        <translation>已包含</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="163"/>
        <source>not included</source>
        <translation>未包含</translation>
    </message>
</context>
<context>
    <name>BackupViewModel</name>
    <message>
        <location filename="../../viewmodels/backup_viewmodel.py" line="86"/>
        <source>Writing a backup of the database and settings…</source>
        <translation>正在备份数据库和设置…</translation>
    </message>
    <message>
        <location filename="../../viewmodels/backup_viewmodel.py" line="103"/>
        <source>Verifying the backup of {date}…</source>
        <translation>正在校验 {date} 的备份…</translation>
    </message>
    <message>
        <location filename="../../viewmodels/backup_viewmodel.py" line="113"/>
        <source>Restoring the backup of {date}… (the current state is saved first)</source>
        <translation>正在恢复 {date} 的备份…（会先保存当前状态）</translation>
    </message>
    <message>
        <location filename="../../viewmodels/backup_viewmodel.py" line="124"/>
        <source>Deleting the backup of {date}…</source>
        <translation>正在删除 {date} 的备份…</translation>
    </message>
    <message>
        <location filename="../../viewmodels/backup_viewmodel.py" line="185"/>
        <source>The backup is complete and intact.</source>
        <translation>备份完整无损。</translation>
    </message>
</context>
<context>
    <name>BatchPanel</name>
    <message>
        <location filename="../../widgets/batch_panel.py" line="270"/>
        <source>Batch</source>
        <translation>批处理</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="287"/>
        <source>Scripts running at once (default: one per CPU core, {n})</source>
        <translation>同时运行的脚本数（默认：每个 CPU 核心一个，{n}）</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="294"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="295"/>
        <source>none</source>
        <translation>不限</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="296"/>
        <source>Time limit per script (0 = none)</source>
        <translation>每个脚本的时间限制（0 = 不限）</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="299"/>
        <source>Extra attempts for a failed or timed-out script</source>
        <translation>脚本失败或超时后的额外重试次数</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="320"/>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="320"/>
        <source>fresh interpreter</source>
        <translation>全新解释器</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="320"/>
        <source>fork server</source>
        <translation>fork 服务</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="326"/>
        <source>How scripts start: a warm fork server (fast, Linux) or a fresh interpreter</source>
        <translation>脚本的启动方式：预热的 fork 服务（快速，Linux）或全新解释器</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="350"/>
        <source>Parallel</source>
        <translation>并行数</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="350"/>
        <source>Timeout</source>
        <translation>超时</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="350"/>
        <source>Retries</source>
        <translation>重试</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="350"/>
        <source>Start</source>
        <translation>启动方式</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="541"/>
        <source>%v of %m done</source>
        <translation>已完成 %v / %m</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="543"/>
        <source>No batch yet: tick scripts and press Run</source>
        <translation>尚无批处理：勾选脚本后点击“运行”</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="339"/>
        <source>Sandbox policy: off, standard (limits, writes only in the script&apos;s folder), strict (no network, no subprocesses, limited reads), or a custom policy</source>
        <translation>沙箱策略：off（关闭）、standard（资源限制，只能写入脚本所在文件夹）、strict（禁止网络和子进程，限制读取）或自定义策略</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="350"/>
        <source>Sandbox</source>
        <translation>沙箱</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="275"/>
        <source>Export report…</source>
        <translation>导出报告…</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="278"/>
        <source>Save a report of this batch (HTML, Excel…) once it has finished</source>
        <translation>批次结束后保存其报告（HTML、Excel…）</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="330"/>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="331"/>
        <source>Dask cluster</source>
        <translation>Dask 集群</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="332"/>
        <source>Where the scripts run: here, or on the Dask cluster set in Settings &gt; Execution (none set: a cluster of this computer&apos;s cores)</source>
        <translation>脚本在哪里运行：本机，或“设置 &gt; 执行”中指定的 Dask 集群（未指定时使用由本机各核心组成的集群）</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="350"/>
        <source>Run on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="300"/>
        <source>Fail fast</source>
        <translation>快速失败</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="301"/>
        <source>When a script fails, cancel the scripts that have not finished yet</source>
        <translation>有脚本失败时，取消尚未完成的脚本</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="306"/>
        <source>for every script, as in a shell: --input &apos;my file.csv&apos; -v</source>
        <translation>用于每个脚本，写法同 shell：--input 'my file.csv' -v</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="309"/>
        <source>Command-line arguments given to every script of the run, split like a shell does: quote an argument that holds spaces</source>
        <translation>传给本次运行中每个脚本的命令行参数，按 shell 的规则拆分：含空格的参数请加引号</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="350"/>
        <source>Arguments</source>
        <translation>参数</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="398"/>
        <source>Stop this script</source>
        <translation>停止此脚本</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="401"/>
        <source>Stop the selected script only; the rest of the batch goes on</source>
        <translation>只停止所选脚本，批次中的其余脚本继续运行</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="499"/>
        <source>Arguments: {reason}</source>
        <translation>参数：{reason}</translation>
    </message>
</context>
<context>
    <name>BatchViewModel</name>
    <message>
        <location filename="../../viewmodels/batch_viewmodel.py" line="166"/>
        <source>A batch is already running.</source>
        <translation>已有批处理正在运行。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/batch_viewmodel.py" line="169"/>
        <source>Tick the scripts to run in the library first.</source>
        <translation>请先在脚本库中勾选要运行的脚本。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/batch_viewmodel.py" line="172"/>
        <source>The arguments cannot be read: {reason}</source>
        <translation>无法解析参数：{reason}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/batch_viewmodel.py" line="236"/>
        <source>a quote is not closed</source>
        <translation>有引号未闭合</translation>
    </message>
    <message>
        <location filename="../../viewmodels/batch_viewmodel.py" line="238"/>
        <source>a backslash at the end has nothing to escape</source>
        <translation>末尾的反斜杠后面没有可转义的字符</translation>
    </message>
</context>
<context>
    <name>BusyProgress</name>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="66"/>
        <source>Backup</source>
        <translation>备份</translation>
    </message>
</context>
<context>
    <name>CreateBackup</name>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="93"/>
        <source>Create backup</source>
        <translation>创建备份</translation>
    </message>
</context>
<context>
    <name>ExecutionDetailsViewModel</name>
    <message>
        <location filename="../../viewmodels/history_viewmodel.py" line="402"/>
        <source>There is no execution with the id “{execution}”: it may have been removed from the history.</source>
        <translation>没有 ID 为“{execution}”的执行记录：它可能已从历史记录中删除。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/history_viewmodel.py" line="411"/>
        <source>{problem}

Log files are removed when old runs are pruned from the history, or when a backup without logs is restored.</source>
        <translation>{problem}

清理历史记录中的旧运行，或恢复不含日志的备份时，日志文件会被删除。</translation>
    </message>
</context>
<context>
    <name>ExecutionDialog</name>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="185"/>
        <source>Execution {id}</source>
        <translation>执行 {id}</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="73"/>
        <source>Script</source>
        <translation>脚本</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="73"/>
        <source>Arguments</source>
        <translation>参数</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="96"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="96"/>
        <source>Exit code</source>
        <translation>退出码</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="96"/>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="73"/>
        <source>Finished</source>
        <translation>结束时间</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="96"/>
        <source>Duration</source>
        <translation>耗时</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="73"/>
        <source>CPU time</source>
        <translation>CPU 时间</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="73"/>
        <source>Peak memory</source>
        <translation>内存峰值</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="73"/>
        <source>Output size</source>
        <translation>输出大小</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="73"/>
        <source>Log file</source>
        <translation>日志文件</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="96"/>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="92"/>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="94"/>
        <source>Attempts</source>
        <translation>尝试次数</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="96"/>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="96"/>
        <source>Worker</source>
        <translation>工作节点</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="122"/>
        <source>Loading output…</source>
        <translation>正在加载输出…</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="123"/>
        <source>Copy output</source>
        <translation>复制输出</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="125"/>
        <source>Open log file</source>
        <translation>打开日志文件</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="130"/>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="206"/>
        <source>This execution has no output.</source>
        <translation>此执行没有输出。</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="241"/>
        <source>This execution printed nothing.</source>
        <translation>此执行没有打印任何内容。</translation>
    </message>
    <message>
        <location filename="../../dialogs/execution_dialog.py" line="277"/>
        <source>No output yet.</source>
        <translation>尚无输出。</translation>
    </message>
</context>
<context>
    <name>ExecutionTableModel</name>
    <message>
        <location filename="../../widgets/batch_panel.py" line="62"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="63"/>
        <source>Script</source>
        <translation>脚本</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="64"/>
        <source>Arguments</source>
        <translation>参数</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="65"/>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="66"/>
        <source>Duration</source>
        <translation>耗时</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="67"/>
        <source>Exit code</source>
        <translation>退出码</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="68"/>
        <source>Attempts</source>
        <translation>尝试次数</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="69"/>
        <source>CPU time</source>
        <translation>CPU 时间</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="70"/>
        <source>Peak memory</source>
        <translation>内存峰值</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="71"/>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="142"/>
        <source> · reduced isolation</source>
        <translation> · 隔离降级</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="120"/>
        <source>Reduced isolation: not every sandbox layer could be applied here (held: {layers})</source>
        <translation>隔离降级：此处未能启用全部沙箱层（已启用：{layers}）</translation>
    </message>
    <message>
        <location filename="../../widgets/batch_panel.py" line="125"/>
        <source>Sandbox policy {policy}: {layers}</source>
        <translation>沙箱策略 {policy}：{layers}</translation>
    </message>
</context>
<context>
    <name>FindingsModel</name>
    <message>
        <location filename="../../views/analysis_view.py" line="88"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="88"/>
        <source>Script</source>
        <translation>脚本</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="88"/>
        <source>Finding</source>
        <translation>发现</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="88"/>
        <source>Figures</source>
        <translation>数据</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="92"/>
        <source>Slowest</source>
        <translation>最慢</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="93"/>
        <source>Memory-heavy</source>
        <translation>内存占用高</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="94"/>
        <source>Failing</source>
        <translation>经常失败</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="95"/>
        <source>Slower than usual</source>
        <translation>比平时慢</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="96"/>
        <source>CPU saturated</source>
        <translation>CPU 饱和</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="97"/>
        <source>Memory pressure</source>
        <translation>内存紧张</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="98"/>
        <source>Waiting on disk</source>
        <translation>等待磁盘</translation>
    </message>
    <message>
        <location filename="../../views/analysis_view.py" line="125"/>
        <source>(the batch)</source>
        <translation>（整个批处理）</translation>
    </message>
</context>
<context>
    <name>HistoryTableModel</name>
    <message>
        <location filename="../../views/history_view.py" line="110"/>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="111"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="112"/>
        <source>Script</source>
        <translation>脚本</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="113"/>
        <source>Arguments</source>
        <translation>参数</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="114"/>
        <source>Duration</source>
        <translation>耗时</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="115"/>
        <source>Exit code</source>
        <translation>退出码</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="116"/>
        <source>Attempts</source>
        <translation>尝试次数</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="117"/>
        <source>CPU time</source>
        <translation>CPU 时间</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="118"/>
        <source>Peak memory</source>
        <translation>内存峰值</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="119"/>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="199"/>
        <source>Batch: {id}</source>
        <translation>批处理：{id}</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="201"/>
        <source>Queued: {time}</source>
        <translation>排队时间：{time}</translation>
    </message>
</context>
<context>
    <name>HistoryView</name>
    <message>
        <location filename="../../views/history_view.py" line="251"/>
        <source>Script path contains…</source>
        <translation>脚本路径包含…</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="254"/>
        <source>All statuses</source>
        <translation>全部状态</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="260"/>
        <source>Batch id or prefix</source>
        <translation>批处理 ID 或前缀</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="263"/>
        <source>From</source>
        <translation>从</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="265"/>
        <source>To</source>
        <translation>到</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="267"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="269"/>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message numerus="yes">
        <location filename="../../views/history_view.py" line="435"/>
        <source>%n execution(s)</source>
        <translation>
            <numerusform>%n 次执行</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="276"/>
        <source>Export report…</source>
        <translation>导出报告…</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="277"/>
        <source>Save a report of the selected execution's batch (HTML, Excel…)</source>
        <translation>保存所选执行所属批次的报告（HTML、Excel…）</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="468"/>
        <source>Open details…</source>
        <translation>打开详情…</translation>
    </message>
    <message>
        <location filename="../../views/history_view.py" line="469"/>
        <source>Export report of this batch…</source>
        <translation>导出此批次的报告…</translation>
    </message>
</context>
<context>
    <name>HistoryViewModel</name>
    <message>
        <location filename="../../viewmodels/history_viewmodel.py" line="263"/>
        <source>No batch has the id “{batch}” or an id starting with it. A row's tooltip shows its batch id.</source>
        <translation>没有 ID 为“{batch}”或以它开头的批次。鼠标悬停在某一行上可看到它的批次 ID。</translation>
    </message>
</context>
<context>
    <name>LibraryPanel</name>
    <message>
        <location filename="../../widgets/library_panel.py" line="36"/>
        <source>Search scripts</source>
        <translation>搜索脚本</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="39"/>
        <source>Show only scripts with this tag</source>
        <translation>只显示带有此标签的脚本</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="54"/>
        <source>Add scripts…</source>
        <translation>添加脚本…</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="57"/>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="60"/>
        <source>Remove selected from the library</source>
        <translation>从脚本库中移除所选项</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="65"/>
        <source>Rescan: pick up changed and vanished files</source>
        <translation>重新扫描：发现已更改和已消失的文件</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="86"/>
        <source>&lt;b&gt;Script library&lt;/b&gt;</source>
        <translation>&lt;b&gt;脚本库&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="110"/>
        <source>Add scripts</source>
        <translation>添加脚本</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="110"/>
        <source>Python scripts (*.py)</source>
        <translation>Python 脚本 (*.py)</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="116"/>
        <source>Add a folder of scripts</source>
        <translation>添加脚本文件夹</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="194"/>
        <source> (missing)</source>
        <translation>（缺失）</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="205"/>
        <source>Tags: {tags}</source>
        <translation>标签：{tags}</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="260"/>
        <source>All tags</source>
        <translation>全部标签</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="288"/>
        <source>{checked} of {total} ticked</source>
        <translation>已勾选 {checked} / {total}</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="182"/>
        <source>Sandbox policy</source>
        <translation>沙箱策略</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="183"/>
        <source>As the batch</source>
        <translation>跟随批处理</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="190"/>
        <source>Remove from the library</source>
        <translation>从脚本库中移除</translation>
    </message>
    <message>
        <location filename="../../widgets/library_panel.py" line="207"/>
        <source>Always runs under sandbox policy {policy}</source>
        <translation>始终在沙箱策略 {policy} 下运行</translation>
    </message>
</context>
<context>
    <name>LibraryViewModel</name>
    <message>
        <location filename="../../viewmodels/library_viewmodel.py" line="147"/>
        <source>{added} added, {updated} updated, {skipped} skipped</source>
        <translation>新增 {added}，更新 {updated}，跳过 {skipped}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/library_viewmodel.py" line="153"/>
        <source>Some paths were not added:</source>
        <translation>以下路径未能添加：</translation>
    </message>
    <message>
        <location filename="../../viewmodels/library_viewmodel.py" line="157"/>
        <source>{updated} updated, {missing} missing, {restored} back</source>
        <translation>更新 {updated}，缺失 {missing}，恢复 {restored}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/library_viewmodel.py" line="110"/>
        <source>the batch&apos;s policy</source>
        <translation>批处理的策略</translation>
    </message>
    <message>
        <location filename="../../viewmodels/library_viewmodel.py" line="111"/>
        <source>{count} script(s) now run under {policy}</source>
        <translation>{count} 个脚本现在使用 {policy} 运行</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../dialogs/login_dialog.py" line="25"/>
        <source>Log in to ScriptBatch</source>
        <translation>登录 ScriptBatch</translation>
    </message>
    <message>
        <location filename="../../dialogs/login_dialog.py" line="41"/>
        <source>User name:</source>
        <translation>用户名：</translation>
    </message>
    <message>
        <location filename="../../dialogs/login_dialog.py" line="42"/>
        <source>Password:</source>
        <translation>密码：</translation>
    </message>
    <message>
        <location filename="../../dialogs/login_dialog.py" line="46"/>
        <source>ScriptBatch is set up for several users, and there is no administrator yet. Create the first one: this account manages the others.</source>
        <translation>ScriptBatch 已设为多用户模式，但还没有管理员。请创建第一个管理员：此账户负责管理其他用户。</translation>
    </message>
    <message>
        <location filename="../../dialogs/login_dialog.py" line="52"/>
        <source>Repeat password:</source>
        <translation>再次输入密码：</translation>
    </message>
    <message>
        <location filename="../../dialogs/login_dialog.py" line="53"/>
        <source>Create and log in</source>
        <translation>创建并登录</translation>
    </message>
    <message>
        <location filename="../../dialogs/login_dialog.py" line="55"/>
        <source>Log in with your ScriptBatch user name and password.</source>
        <translation>请使用 ScriptBatch 用户名和密码登录。</translation>
    </message>
    <message>
        <location filename="../../dialogs/login_dialog.py" line="57"/>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../views/main_window.py" line="548"/>
        <source>ScriptBatch</source>
        <translation>ScriptBatch 脚本批量执行工具</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="134"/>
        <source>Batch</source>
        <translation>批处理</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="135"/>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="214"/>
        <source>Add &amp;scripts…</source>
        <translation>添加脚本(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="215"/>
        <source>Add &amp;folder…</source>
        <translation>添加文件夹(&amp;F)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="216"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="218"/>
        <source>&amp;Run selected</source>
        <translation>运行所选(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="222"/>
        <source>Run the ticked scripts (F5)</source>
        <translation>运行已勾选的脚本 (F5)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="223"/>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="225"/>
        <source>Stop the batch: kill running scripts (Shift+F5)</source>
        <translation>停止批处理：终止正在运行的脚本 (Shift+F5)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="226"/>
        <source>Re-run &amp;failed</source>
        <translation>重新运行失败项(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="229"/>
        <source>Run again what did not succeed in the last batch</source>
        <translation>重新运行上一批中未成功的脚本</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="230"/>
        <source>&amp;Find in output</source>
        <translation>在输出中查找(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="232"/>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="234"/>
        <source>&amp;About ScriptBatch</source>
        <translation>关于 ScriptBatch(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="245"/>
        <source>Open &amp;log folder</source>
        <translation>打开日志文件夹(&amp;L)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="283"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="288"/>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="300"/>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="306"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="372"/>
        <source>About ScriptBatch</source>
        <translation>关于 ScriptBatch</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="372"/>
        <source>&lt;h3&gt;ScriptBatch {version}&lt;/h3&gt;&lt;p&gt;Run folders of Python scripts as safe, parallel, recorded batches.&lt;/p&gt;&lt;p&gt;Python {python} · Qt {qt} · PyQt {pyqt}&lt;/p&gt;</source>
        <translation>&lt;h3&gt;ScriptBatch {version}&lt;/h3&gt;&lt;p&gt;安全、并行地批量运行 Python 脚本，并记录每一次执行。&lt;/p&gt;&lt;p&gt;Python {python} · Qt {qt} · PyQt {pyqt}&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="490"/>
        <source>Running {running} · Succeeded {succeeded} · Failed {failed}</source>
        <translation>运行中 {running} · 成功 {succeeded} · 失败 {failed}</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="507"/>
        <source>CPU {cpu:.0f}% · Memory {memory:.0f}%</source>
        <translation>CPU {cpu:.0f}% · 内存 {memory:.0f}%</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="513"/>
        <source>Batch finished: {succeeded} of {total} succeeded</source>
        <translation>批处理完成：{total} 个中 {succeeded} 个成功</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="572"/>
        <source>A batch is running</source>
        <translation>批处理正在运行</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="572"/>
        <source>Stop the running batch and quit?

Running scripts are killed and recorded as cancelled.</source>
        <translation>停止正在运行的批处理并退出吗？

正在运行的脚本将被终止，并记录为已取消。</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="587"/>
        <source>Stopping the batch…</source>
        <translation>正在停止批处理…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="136"/>
        <source>Analysis</source>
        <translation>分析</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="146"/>
        <source>Performance</source>
        <translation>性能</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="153"/>
        <source>&amp;Performance panel</source>
        <translation>性能面板(&amp;P)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="154"/>
        <source>Show or hide live CPU, memory and disk charts</source>
        <translation>显示或隐藏 CPU、内存和磁盘的实时图表</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="293"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="263"/>
        <source>&amp;Create backup…</source>
        <translation>创建备份(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="264"/>
        <source>Back up the database (scripts, runs, history) and the settings now</source>
        <translation>立即备份数据库（脚本、运行记录、历史）和设置</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="267"/>
        <source>&amp;Restore…</source>
        <translation>恢复(&amp;R)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="268"/>
        <source>Replace the current data with a backup (not while a batch runs)</source>
        <translation>用备份替换当前数据（批处理运行时不可用）</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="271"/>
        <source>&amp;Manage backups…</source>
        <translation>管理备份(&amp;M)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="272"/>
        <source>Verify and delete backups, open the backup folder</source>
        <translation>校验和删除备份，打开备份文件夹</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="295"/>
        <source>&amp;Backup</source>
        <translation>备份(&amp;B)</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="464"/>
        <source>Backup written: {path} ({size})</source>
        <translation>备份已写入：{path}（{size}）</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="477"/>
        <source>Backup restored; the previous state is in {path}</source>
        <translation>备份已恢复；之前的状态保存在 {path}</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="163"/>
        <source>{0} ({1})</source>
        <translation>{0}（{1}）</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="164"/>
        <source>Logged-in user and role</source>
        <translation>当前登录用户及其角色</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="235"/>
        <source>&amp;Users and audit log…</source>
        <translation>用户与审计日志(&amp;U)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="236"/>
        <source>Add users, change roles, read the audit log</source>
        <translation>添加用户、修改角色、查看审计日志</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="237"/>
        <source>&amp;API server…</source>
        <translation>API 服务器(&amp;A)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="238"/>
        <source>Start or stop the REST API other programs drive ScriptBatch with</source>
        <translation>启动或停止供其他程序调用 ScriptBatch 的 REST API</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="241"/>
        <source>&amp;Plugins…</source>
        <translation>插件(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="242"/>
        <source>See the plugins, switch them on or off, change their settings</source>
        <translation>查看插件、启用或停用插件、修改插件设置</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="542"/>
        <source>Export report</source>
        <translation>导出报告</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="352"/>
        <source>Export report of batch {0}</source>
        <translation>导出批次 {0} 的报告</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="362"/>
        <source>Writing the report {0}…</source>
        <translation>正在写入报告 {0}…</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="538"/>
        <source>Report written: {0}</source>
        <translation>报告已写入：{0}</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="496"/>
        <source>Cancelled {cancelled}</source>
        <translation>已取消 {cancelled}</translation>
    </message>
    <message>
        <location filename="../../views/main_window.py" line="521"/>
        <source>{count} {reason}</source>
        <translation>{count} 个：{reason}</translation>
    </message>
</context>
<context>
    <name>ManageBackupsDialog</name>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="408"/>
        <source>Manage backups</source>
        <translation>管理备份</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="364"/>
        <source>&amp;Verify</source>
        <translation>校验(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="365"/>
        <source>Read the whole archive and check every checksum</source>
        <translation>读取整个归档并检查每个校验和</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="366"/>
        <source>&amp;Delete…</source>
        <translation>删除(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="367"/>
        <source>Open &amp;folder</source>
        <translation>打开文件夹(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="392"/>
        <source>Delete a backup</source>
        <translation>删除备份</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="392"/>
        <source>Delete the backup of {date}?

{path}

The archive file is deleted.</source>
        <translation>删除 {date} 的备份？

{path}

归档文件将被删除。</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="408"/>
        <source>The backup folder {folder} does not exist yet; the first backup makes it.</source>
        <translation>备份文件夹 {folder} 还不存在；第一次备份时会创建它。</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="432"/>
        <source>Verify a backup</source>
        <translation>校验备份</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="424"/>
        <source>The backup of {date} is valid.

{message}</source>
        <translation>{date} 的备份有效。

{message}</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="432"/>
        <source>The backup of {date} is NOT valid.

{message}</source>
        <translation>{date} 的备份无效。

{message}</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="357"/>
        <source>Backups are made on request and automatically on a schedule ([backup] auto_interval_h in the settings file). The newest backups and the newest verified one are kept; older ones are deleted.</source>
        <translation>备份可手动创建，也会按计划自动创建（设置文件中的 [backup] auto_interval_h）。保留最新的若干个备份和最新一个校验通过的备份；更早的备份会被删除。</translation>
    </message>
</context>
<context>
    <name>OutputView</name>
    <message>
        <location filename="../../widgets/output_view.py" line="90"/>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location filename="../../widgets/output_view.py" line="53"/>
        <source>Select an execution to see its output.</source>
        <translation>选择一次执行以查看其输出。</translation>
    </message>
    <message>
        <location filename="../../widgets/output_view.py" line="55"/>
        <source>Find in output (Enter: next, Shift+Enter: previous)</source>
        <translation>在输出中查找（回车：下一个，Shift+回车：上一个）</translation>
    </message>
    <message>
        <location filename="../../widgets/output_view.py" line="58"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../widgets/output_view.py" line="59"/>
        <source>Copy the selection, or everything shown</source>
        <translation>复制所选内容，或复制全部显示内容</translation>
    </message>
    <message>
        <location filename="../../widgets/output_view.py" line="60"/>
        <source>Open full log</source>
        <translation>打开完整日志</translation>
    </message>
    <message>
        <location filename="../../widgets/output_view.py" line="161"/>
        <source>not found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <location filename="../../widgets/output_view.py" line="136"/>
        <source>The log file is not there: it was deleted (history prune, a restored backup), or the script has not started yet.</source>
        <translation>日志文件不存在：它已被删除（历史清理或恢复的备份），或者脚本尚未开始运行。</translation>
    </message>
</context>
<context>
    <name>PerformancePanel</name>
    <message>
        <location filename="../../widgets/performance_panel.py" line="188"/>
        <source>Monitoring is switched off. Turn on “Monitor the system” in Tools &gt; Settings &gt; Monitoring to see live figures.</source>
        <translation>监控已关闭。在“工具 &gt; 设置 &gt; 监控”中打开“监控系统资源”即可查看实时数据。</translation>
    </message>
    <message numerus="yes">
        <location filename="../../widgets/performance_panel.py" line="200"/>
        <source>Last %n min</source>
        <translation>
            <numerusform>最近 %n 分钟</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="204"/>
        <source>How much time the charts show</source>
        <translation>图表显示的时间范围</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="224"/>
        <source>Running scripts</source>
        <translation>运行中的脚本</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="243"/>
        <source>No scripts are running.</source>
        <translation>没有正在运行的脚本。</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="302"/>
        <source>Queue {queued} · Running {running}</source>
        <translation>队列 {queued} · 运行中 {running}</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="312"/>
        <source>{region}: {hits} hits, {misses} misses, {size} of {max_size} entries</source>
        <translation>{region}：命中 {hits} 次，未命中 {misses} 次，{size}/{max_size} 项</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="324"/>
        <source>Cache hits: {rates}</source>
        <translation>缓存命中率：{rates}</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="375"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="378"/>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="381"/>
        <source>Disk</source>
        <translation>磁盘</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="383"/>
        <source>not available here</source>
        <translation>此系统上不可用</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="385"/>
        <source>read {rate}/s</source>
        <translation>读 {rate}/s</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="386"/>
        <source>write {rate}/s</source>
        <translation>写 {rate}/s</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="391"/>
        <source>Script processes</source>
        <translation>脚本进程</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="401"/>
        <source>library</source>
        <translation>脚本库</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="402"/>
        <source>history</source>
        <translation>历史</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="403"/>
        <source>settings</source>
        <translation>设置</translation>
    </message>
</context>
<context>
    <name>PluginsDialog</name>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="565"/>
        <source>Plugins</source>
        <translation>插件</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="279"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="279"/>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="279"/>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="279"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="279"/>
        <source>Description</source>
        <translation>说明</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="528"/>
        <source>Disable</source>
        <translation>停用</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="325"/>
        <source>Source:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="326"/>
        <source>Author:</source>
        <translation>作者：</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="327"/>
        <source>Formats:</source>
        <translation>格式：</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="328"/>
        <source>Hooks:</source>
        <translation>钩子：</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="329"/>
        <source>Error:</source>
        <translation>错误：</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="331"/>
        <source>Last problem:</source>
        <translation>最近的问题：</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="336"/>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="353"/>
        <source>Save settings</source>
        <translation>保存设置</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="354"/>
        <source>View only: changing plugins needs the manager role.</source>
        <translation>只读：修改插件需要管理者角色。</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="363"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="455"/>
        <source>enabled</source>
        <translation>已启用</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="456"/>
        <source>disabled</source>
        <translation>已停用</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="457"/>
        <source>errored</source>
        <translation>出错</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="468"/>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="468"/>
        <source>No plugins found.</source>
        <translation>未找到插件。</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="488"/>
        <source>Clear the error and load the plugin again</source>
        <translation>清除错误并重新加载插件</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="509"/>
        <source>This plugin has no settings.</source>
        <translation>此插件没有设置。</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="528"/>
        <source>Enable</source>
        <translation>启用</translation>
    </message>
</context>
<context>
    <name>PluginsViewModel</name>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="66"/>
        <source>Enabled {0}.</source>
        <translation>已启用 {0}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="66"/>
        <source>Disabled {0}.</source>
        <translation>已停用 {0}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="101"/>
        <source>Saved the settings of {0}.</source>
        <translation>已保存 {0} 的设置。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="203"/>
        <source>Plugin {plugin} failed and is switched off until it is enabled again: {message}</source>
        <translation>插件 {plugin} 出错，在重新启用前不再调用：{message}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="207"/>
        <source>Plugin {plugin}: {message}</source>
        <translation>插件 {plugin}：{message}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="148"/>
        <source>{problem}. The list shows the plugins found now.</source>
        <translation>{problem}。列表显示的是现在找到的插件。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="168"/>
        <source>must not be empty</source>
        <translation>不能为空</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="170"/>
        <source>must be at least {count} characters</source>
        <translation>至少需要 {count} 个字符</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="173"/>
        <source>must be at least {limit}</source>
        <translation>不能小于 {limit}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="174"/>
        <source>must be more than {limit}</source>
        <translation>必须大于 {limit}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="175"/>
        <source>must be at most {limit}</source>
        <translation>不能大于 {limit}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="176"/>
        <source>must be less than {limit}</source>
        <translation>必须小于 {limit}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="181"/>
        <source>must be one of: {choices}</source>
        <translation>必须是以下之一：{choices}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="185"/>
        <source>must be a whole number</source>
        <translation>必须是整数</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="187"/>
        <source>must be a number</source>
        <translation>必须是数字</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="189"/>
        <source>must be on or off</source>
        <translation>必须是开或关</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="191"/>
        <source>must be set</source>
        <translation>必须填写</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="193"/>
        <source>is not a setting of this plugin</source>
        <translation>不是此插件的设置项</translation>
    </message>
    <message>
        <location filename="../../viewmodels/plugins_viewmodel.py" line="199"/>
        <source>{field}: {problem}.</source>
        <translation>{field}：{problem}。</translation>
    </message>
</context>
<context>
    <name>ReportViewModel</name>
    <message>
        <location filename="../../viewmodels/report_viewmodel.py" line="55"/>
        <source>No enabled plugin makes reports. Enable html_report or excel_export in Tools &gt; Plugins.</source>
        <translation>没有已启用的插件能生成报告。请在“工具 &gt; 插件”中启用 html_report 或 excel_export。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/report_viewmodel.py" line="61"/>
        <source>HTML report</source>
        <translation>HTML 报告</translation>
    </message>
    <message>
        <location filename="../../viewmodels/report_viewmodel.py" line="61"/>
        <source>Excel workbook</source>
        <translation>Excel 工作簿</translation>
    </message>
    <message>
        <location filename="../../viewmodels/report_viewmodel.py" line="62"/>
        <source>{0} report</source>
        <translation>{0} 报告</translation>
    </message>
</context>
<context>
    <name>RestoreDialog</name>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="338"/>
        <source>Restore a backup</source>
        <translation>恢复备份</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="282"/>
        <source>Choose the state to go back to. The current state is saved first as a pre-restore backup, so a restore can be undone.</source>
        <translation>选择要回到的状态。当前状态会先保存为恢复前备份，因此恢复可以撤销。</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="288"/>
        <source>&amp;Restore…</source>
        <translation>恢复(&amp;R)…</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="289"/>
        <source>Replace the current data with this backup</source>
        <translation>用此备份替换当前数据</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="304"/>
        <source>the database, with all scripts, runs and history</source>
        <translation>数据库，包括所有脚本、运行记录和历史</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="305"/>
        <source>your settings file</source>
        <translation>你的设置文件</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="308"/>
        <source>the run logs</source>
        <translation>运行日志</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="309"/>
        <source>Restore the backup of {date}?

These will be replaced by their state of {date}:
{items}

The current state is saved first as a pre-restore backup.</source>
        <translation>恢复 {date} 的备份？

以下内容将被替换为 {date} 时的状态：
{items}

当前状态会先保存为恢复前备份。</translation>
    </message>
    <message>
        <location filename="../../dialogs/backup_dialogs.py" line="338"/>
        <source>The backup of {date} is restored.

The state before the restore is saved in:
{path}

Restore that backup to undo this restore.</source>
        <translation>{date} 的备份已恢复。

恢复前的状态保存在：
{path}

恢复该备份即可撤销这次恢复。</translation>
    </message>
</context>
<context>
    <name>ScriptTableModel</name>
    <message>
        <location filename="../../widgets/performance_panel.py" line="89"/>
        <source>Script</source>
        <translation>脚本</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="89"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="89"/>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <location filename="../../widgets/performance_panel.py" line="89"/>
        <source>Proc.</source>
        <translation>进程</translation>
    </message>
</context>
<context>
    <name>SessionViewModel</name>
    <message>
        <location filename="../../viewmodels/session_viewmodel.py" line="52"/>
        <source>Enter your user name.</source>
        <translation>请输入用户名。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/session_viewmodel.py" line="62"/>
        <source>The two passwords differ.</source>
        <translation>两次输入的密码不一致。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="52"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="69"/>
        <source>Restore defaults</source>
        <translation>恢复默认值</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="70"/>
        <source>Put every value on this page back to its default</source>
        <translation>将本页所有值恢复为默认值</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="132"/>
        <source>applies after restart</source>
        <translation>重启后生效</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="198"/>
        <source>e.g. {examples}</source>
        <translation>例如 {examples}</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="198"/>
        <source>values separated by commas</source>
        <translation>多个值用逗号分隔</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="272"/>
        <source>Execution</source>
        <translation>执行</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="273"/>
        <source>Cache</source>
        <translation>缓存</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="274"/>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="275"/>
        <source>Sandbox</source>
        <translation>沙箱</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="276"/>
        <source>Monitoring</source>
        <translation>监控</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="277"/>
        <source>Backup</source>
        <translation>备份</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="278"/>
        <source>Plugins</source>
        <translation>插件</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="279"/>
        <source>REST API</source>
        <translation>REST API</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="280"/>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="281"/>
        <source>Logging</source>
        <translation>日志</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="287"/>
        <source>System language</source>
        <translation>系统语言</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="290"/>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="291"/>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="292"/>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="293"/>
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="294"/>
        <source>Dask cluster</source>
        <translation>Dask 集群</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="295"/>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="296"/>
        <source>Fresh interpreter (spawn)</source>
        <translation>全新解释器 (spawn)</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="297"/>
        <source>Warm helper (forkserver, Linux)</source>
        <translation>预热辅助进程 (forkserver，Linux)</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="304"/>
        <source>Run scripts on</source>
        <translation>脚本运行位置</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="305"/>
        <source>Parallel jobs</source>
        <translation>并行任务数</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="306"/>
        <source>Timeout (s)</source>
        <translation>超时（秒）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="307"/>
        <source>Retries</source>
        <translation>重试次数</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="308"/>
        <source>Retry delay (s)</source>
        <translation>重试间隔（秒）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="309"/>
        <source>Retry when</source>
        <translation>重试条件</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="310"/>
        <source>Grace period before kill (s)</source>
        <translation>强制终止前的宽限期（秒）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="311"/>
        <source>Stop after the first failure</source>
        <translation>首次失败后停止</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="312"/>
        <source>Python interpreter</source>
        <translation>Python 解释器</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="313"/>
        <source>Start method</source>
        <translation>启动方式</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="314"/>
        <source>Output kept per script (MB)</source>
        <translation>每个脚本保留的输出（MB）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="315"/>
        <source>Dask scheduler</source>
        <translation>Dask 调度器</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="316"/>
        <source>Library entries cached</source>
        <translation>缓存的脚本库条目数</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="317"/>
        <source>History queries cached</source>
        <translation>缓存的历史查询数</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="318"/>
        <source>Cache lifetime (s)</source>
        <translation>缓存有效期（秒）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="319"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="320"/>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="321"/>
        <source>Use the sandbox</source>
        <translation>启用沙箱</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="322"/>
        <source>Memory limit (MB)</source>
        <translation>内存限制（MB）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="323"/>
        <source>CPU time limit (s)</source>
        <translation>CPU 时间限制（秒）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="324"/>
        <source>Largest file written (MB)</source>
        <translation>可写入的最大文件（MB）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="325"/>
        <source>Allow network access</source>
        <translation>允许网络访问</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="326"/>
        <source>Allow starting programs</source>
        <translation>允许启动其他程序</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="327"/>
        <source>Monitor the system</source>
        <translation>监控系统资源</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="328"/>
        <source>Sample interval (s)</source>
        <translation>采样间隔（秒）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="329"/>
        <source>Automatic backup every (h)</source>
        <translation>自动备份间隔（小时）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="330"/>
        <source>Enabled plugins</source>
        <translation>已启用的插件</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="331"/>
        <source>Plugin hook timeout (s)</source>
        <translation>插件钩子超时（秒）</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="332"/>
        <source>Keep for (days)</source>
        <translation>保留天数</translation>
    </message>
    <message>
        <location filename="../../dialogs/settings_dialog.py" line="333"/>
        <source>Enabled</source>
        <translation>启用</translation>
    </message>
</context>
<context>
    <name>SettingsForm</name>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="123"/>
        <source>{0}:</source>
        <translation>{0}：</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="125"/>
        <source>Setting {0}</source>
        <translation>设置 {0}</translation>
    </message>
    <message>
        <location filename="../../dialogs/plugins_dialog.py" line="218"/>
        <source>several, separated by commas</source>
        <translation>可填多个，用逗号分隔</translation>
    </message>
</context>
<context>
    <name>SettingsViewModel</name>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="269"/>
        <source>Correct the values marked in red first.</source>
        <translation>请先更正标为红色的值。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="319"/>
        <source>The settings could not be written to {file}: {reason}</source>
        <translation>无法将设置写入 {file}：{reason}</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="439"/>
        <source>Must be between {low} and {high}.</source>
        <translation>必须介于 {low} 和 {high} 之间。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="443"/>
        <source>Must be at least {limit}.</source>
        <translation>不能小于 {limit}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="445"/>
        <source>Must be more than {limit}.</source>
        <translation>必须大于 {limit}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="447"/>
        <source>Must be at most {limit}.</source>
        <translation>不能大于 {limit}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="448"/>
        <source>Must be less than {limit}.</source>
        <translation>必须小于 {limit}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="452"/>
        <source>“{value}” is not allowed; choose from: {allowed}.</source>
        <translation>不允许使用“{value}”；可选值：{allowed}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="455"/>
        <source>Must be one of: {allowed}.</source>
        <translation>必须是以下之一：{allowed}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="457"/>
        <source>Must be a whole number.</source>
        <translation>必须是整数。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="459"/>
        <source>Must be a number.</source>
        <translation>必须是数字。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="461"/>
        <source>Must be on or off (true or false).</source>
        <translation>必须是开或关（true 或 false）。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="464"/>
        <source>Must not be empty.</source>
        <translation>不能为空。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="465"/>
        <source>Must be at least {count} characters.</source>
        <translation>至少需要 {count} 个字符。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="467"/>
        <source>Must be a list of values separated by commas.</source>
        <translation>必须是用逗号分隔的值列表。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="469"/>
        <source>Must be text.</source>
        <translation>必须是文本。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="272"/>
        <source>Some values are still being checked.</source>
        <translation>仍有数值正在检查中。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="360"/>
        <source>Must be the address of a Dask scheduler, like tcp://HOST:8786 (also {protocols}), or empty to run a Dask cluster on this computer.</source>
        <translation>必须是 Dask 调度器的地址，例如 tcp://HOST:8786（也可用 {protocols}）；留空则在本机运行 Dask 集群。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="368"/>
        <source>“{python}” was not found. Give the path of a Python interpreter, e.g. /usr/bin/python3, or leave it empty to use the one ScriptBatch runs on.</source>
        <translation>找不到“{python}”。请填写 Python 解释器的路径，例如 /usr/bin/python3；留空则使用运行 ScriptBatch 的解释器。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="372"/>
        <source>“{python}” is a folder: give the interpreter in it, e.g. {example}.</source>
        <translation>“{python}”是一个文件夹：请填写其中的解释器，例如 {example}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="375"/>
        <source>“{python}” is not a program this user may run.</source>
        <translation>“{python}”不是当前用户可以运行的程序。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="397"/>
        <source>There is no sandbox policy “{name}”. Choose one of: {policies}; or give the path of a policy file (.toml).</source>
        <translation>没有名为“{name}”的沙箱策略。请选择以下之一：{policies}；或填写策略文件（.toml）的路径。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/settings_viewmodel.py" line="401"/>
        <source>There is no policy file “{path}”.</source>
        <translation>没有策略文件“{path}”。</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <location filename="../../widgets/formatting.py" line="36"/>
        <source>retrying</source>
        <translation>重试中</translation>
    </message>
    <message>
        <location filename="../../widgets/formatting.py" line="38"/>
        <source>pending</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location filename="../../widgets/formatting.py" line="39"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location filename="../../widgets/formatting.py" line="40"/>
        <source>succeeded</source>
        <translation>成功</translation>
    </message>
    <message>
        <location filename="../../widgets/formatting.py" line="41"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location filename="../../widgets/formatting.py" line="42"/>
        <source>timed out</source>
        <translation>超时</translation>
    </message>
    <message>
        <location filename="../../widgets/formatting.py" line="43"/>
        <source>blocked</source>
        <translation>已拦截</translation>
    </message>
    <message>
        <location filename="../../widgets/formatting.py" line="44"/>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../../widgets/formatting.py" line="45"/>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
</context>
<context>
    <name>UsersDialog</name>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="93"/>
        <source>Users and audit log</source>
        <translation>用户与审计日志</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="97"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="97"/>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="97"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="97"/>
        <source>Last login</source>
        <translation>上次登录</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="100"/>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="101"/>
        <source>Change role…</source>
        <translation>修改角色…</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="209"/>
        <source>Disable</source>
        <translation>停用</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="103"/>
        <source>Set password…</source>
        <translation>设置密码…</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="104"/>
        <source>New API token…</source>
        <translation>新建 API 令牌…</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="122"/>
        <source>user</source>
        <translation>用户</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="124"/>
        <source>action, e.g. run batch</source>
        <translation>操作，例如 run batch</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="125"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="130"/>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="130"/>
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="130"/>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="130"/>
        <source>Outcome</source>
        <translation>结果</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="130"/>
        <source>Target</source>
        <translation>对象</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="287"/>
        <source>Users</source>
        <translation>用户</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="147"/>
        <source>Audit log</source>
        <translation>审计日志</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="190"/>
        <source>disabled</source>
        <translation>已停用</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="190"/>
        <source>active</source>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="209"/>
        <source>Enable</source>
        <translation>启用</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="222"/>
        <source>Change role</source>
        <translation>修改角色</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="222"/>
        <source>Role of {0}:</source>
        <translation>{0} 的角色：</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="242"/>
        <source>Set password</source>
        <translation>设置密码</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="242"/>
        <source>New password for {0}:</source>
        <translation>{0} 的新密码：</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="293"/>
        <source>New API token</source>
        <translation>新建 API 令牌</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="255"/>
        <source>What is the token for (optional)?</source>
        <translation>令牌的用途（可选）：</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="305"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="294"/>
        <source>API token for {0}.</source>
        <translation>{0} 的 API 令牌。</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="294"/>
        <source>It is shown only now: copy it.</source>
        <translation>它只显示这一次：请立即复制。</translation>
    </message>
    <message>
        <location filename="../../dialogs/users_dialog.py" line="294"/>
        <source>Send it as 'Authorization: Bearer …'.</source>
        <translation>请以 'Authorization: Bearer …' 的形式发送。</translation>
    </message>
</context>
<context>
    <name>UsersViewModel</name>
    <message>
        <location filename="../../viewmodels/users_viewmodel.py" line="54"/>
        <source>Added {0}.</source>
        <translation>已添加 {0}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/users_viewmodel.py" line="60"/>
        <source>{0} is now {1}.</source>
        <translation>{0} 现在是 {1}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/users_viewmodel.py" line="67"/>
        <source>Disabled {0}.</source>
        <translation>已停用 {0}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/users_viewmodel.py" line="67"/>
        <source>Enabled {0}.</source>
        <translation>已启用 {0}。</translation>
    </message>
    <message>
        <location filename="../../viewmodels/users_viewmodel.py" line="71"/>
        <source>Changed the password of {0}.</source>
        <translation>已修改 {0} 的密码。</translation>
    </message>
</context>
</TS>
