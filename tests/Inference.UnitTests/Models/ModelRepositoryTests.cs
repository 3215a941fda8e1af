using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SegServe.Inference.Models;
using SegServe.Tests.Shared;

namespace SegServe.Inference.UnitTests.Models;

/// <summary>
/// The repository's life cycle on a real models folder (the committed selfie model, a broken manifest, a file that is
/// not ONNX): discovered at once as loading, then opened and warmed with observable progress.
/// </summary>
public sealed class ModelRepositoryTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("segserve-repository-");

    public ModelRepositoryTests()
    {
        string selfie = Directory.CreateDirectory(Path.Combine(_folder.FullName, "selfie")).FullName;
        foreach (string file in new[] { "model.json", "model.onnx" })
        {
            File.Copy(Repository.PathOf($"models/selfie/{file}"), Path.Combine(selfie, file));
        }

        string broken = Directory.CreateDirectory(Path.Combine(_folder.FullName, "broken")).FullName;
        File.WriteAllText(Path.Combine(broken, "model.json"), "{ \"task\": ");

        string notOnnx = Directory.CreateDirectory(Path.Combine(_folder.FullName, "not-onnx")).FullName;
        File.WriteAllText(Path.Combine(notOnnx, "model.json"), """{ "input": { "width": 8, "height": 8 }, "output": { "kind": "logits" }, "classes": [ { "id": 0, "name": "only" } ] }""");
        File.WriteAllText(Path.Combine(notOnnx, "model.onnx"), "not a protobuf");
    }

    [Fact]
    public void Discover_ListsEveryFolder_AsQueuedForLoading()
    {
        using ModelRepository repository = Create();
        Assert.Empty(repository.Models);

        repository.Discover();

        Assert.Equal(["broken", "not-onnx", "selfie"], repository.Models.Select(static m => m.Name));
        Assert.All(repository.Models, static m => Assert.Equal(ModelState.Queued, m.State));
        Assert.False(repository.IsLoaded);
        Assert.True(repository.TryGet("selfie", out SegmentationModel? selfie));
        Assert.Null(selfie.Manifest);
    }

    [Fact]
    public async Task LoadAsync_ReportsEachWarmUpRun_ThenReady()
    {
        using ModelRepository repository = Create();
        var observer = new RecordingObserver();

        await repository.LoadAsync(observer, TestContext.Current.CancellationToken);

        Assert.True(repository.IsLoaded);
        Assert.True(repository.TryGet("selfie", out SegmentationModel? selfie));
        Assert.Equal(ModelStatus.Ready, selfie.Status);
        Assert.Equal(ModelLoadStage.Done, selfie.State.Stage);
        Assert.NotNull(selfie.Batcher);

        // One check run, then one run at each batch size 1 … 8 (the manifest's maxBatchSize); before each, the model
        // reports the runs done so far, of nine.
        int maxBatchSize = selfie.Batching!.MaxBatchSize;
        Assert.Equal([1, .. Enumerable.Range(1, maxBatchSize)], observer.Calls.Where(static c => c.Model == "selfie").Select(static c => c.BatchSize));
        Assert.Equal(Enumerable.Range(0, maxBatchSize + 1), observer.Calls.Where(static c => c.Model == "selfie").Select(static c => c.Completed));
        Assert.All(observer.Calls, c => Assert.Equal(maxBatchSize + 1, c.Total));
        Assert.All(observer.Calls, static c => Assert.Equal(ModelStatus.Loading, c.Status));
    }

    [Fact]
    public async Task LoadAsync_FailsBadModels_WithReasonsThatNameNoPath()
    {
        using ModelRepository repository = Create();

        await repository.LoadAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(repository.TryGet("broken", out SegmentationModel? broken));
        Assert.Equal(ModelStatus.Failed, broken.Status);
        Assert.StartsWith("model.json is invalid", broken.FailureReason, StringComparison.Ordinal);

        Assert.True(repository.TryGet("not-onnx", out SegmentationModel? notOnnx));
        Assert.Equal(ModelStatus.Failed, notOnnx.Status);
        Assert.Contains("model.onnx", notOnnx.FailureReason, StringComparison.Ordinal);
        Assert.DoesNotContain(_folder.FullName, notOnnx.FailureReason, StringComparison.Ordinal);
        Assert.Contains(_folder.FullName, notOnnx.FailureDetail, StringComparison.Ordinal);
        Assert.Null(notOnnx.Session);
        Assert.Null(notOnnx.Batcher);
    }

    [Fact]
    public async Task Cancellation_LeavesTheModelsNotReachedLoading()
    {
        using ModelRepository repository = Create();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var observer = new RecordingObserver(onCall: stop.Cancel);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => repository.LoadAsync(observer, stop.Token));

        Assert.True(repository.TryGet("selfie", out SegmentationModel? selfie));
        Assert.Equal(ModelStatus.Loading, selfie.Status);
        Assert.Equal(ModelLoadStage.WarmingUp, selfie.State.Stage);
        Assert.True(repository.Loaded.IsCanceled);
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private ModelRepository Create() => new(
        Options.Create(new InferenceOptions { ModelsDirectory = _folder.FullName, ExecutionProvider = ExecutionProviderPreference.Cpu }),
        NullLogger<ModelRepository>.Instance);

    private sealed class RecordingObserver(Action? onCall = null) : IModelLoadObserver
    {
        public List<(string Model, int BatchSize, int Completed, int Total, ModelStatus Status)> Calls { get; } = [];

        public ValueTask BeforeWarmUpRunAsync(SegmentationModel model, int batchSize, CancellationToken cancellationToken)
        {
            ModelState state = model.State;
            Calls.Add((model.Name, batchSize, state.WarmUpRunsCompleted, state.WarmUpRuns, state.Status));
            onCall?.Invoke();
            return ValueTask.CompletedTask;
        }
    }
}
