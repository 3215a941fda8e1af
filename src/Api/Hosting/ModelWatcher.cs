using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SegServe.Inference;
using SegServe.Inference.Models;

namespace SegServe.Api.Hosting;

/// <summary>
/// With <c>Inference:WatchModels</c>, reloads a model when its files change on disk: a deployment that copies a new
/// <c>model.onnx</c> into the folder gets it served without a restart and without dropping requests. Changes are
/// gathered per model for <see cref="Quiet"/> (a copy writes many times) before one reload.
/// </summary>
internal sealed partial class ModelWatcher(ModelRepository repository, IOptions<InferenceOptions> options, TimeProvider time, ILogger<ModelWatcher> logger) : BackgroundService
{
    /// <summary>How long a model's files must stay unchanged before it is reloaded.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _changed = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WatchModels || !Directory.Exists(repository.Root))
        {
            return;
        }

        using var watcher = new FileSystemWatcher(repository.Root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.DirectoryName,
        };
        watcher.Changed += (_, e) => Note(e.FullPath);
        watcher.Created += (_, e) => Note(e.FullPath);
        watcher.Renamed += (_, e) => Note(e.FullPath);
        watcher.EnableRaisingEvents = true;
        await repository.Loaded.WaitAsync(stoppingToken).ConfigureAwait(false);
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, stoppingToken).ConfigureAwait(false);
            foreach ((string name, DateTimeOffset at) in _changed)
            {
                if (time.GetUtcNow() - at >= Quiet && _changed.TryRemove(new KeyValuePair<string, DateTimeOffset>(name, at)))
                {
                    ModelReload? reload = await repository.ReloadAsync(name, stoppingToken).ConfigureAwait(false);
                    LogReloaded(name, reload?.FailureReason ?? (reload is null ? "the folder is gone" : "reloaded"));
                }
            }
        }
    }

    private void Note(string path)
    {
        string? relative = Path.GetRelativePath(repository.Root, path);
        string[] parts = relative.Split(Path.DirectorySeparatorChar);
        if (parts.Length == 2 && parts[1] is "model.json" or "model.onnx")
        {
            _changed[parts[0]] = time.GetUtcNow();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Model} changed on disk: {Outcome}")]
    private partial void LogReloaded(string model, string outcome);
}
