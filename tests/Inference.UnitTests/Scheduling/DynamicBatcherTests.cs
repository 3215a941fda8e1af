using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.UnitTests.Scheduling;

/// <summary>
/// The dynamic batcher driven by a fake clock: time only moves when a test advances it, so every "waited long
/// enough" and "expired" below is exact. The runner stands in for the model: it doubles each input's first value,
/// records the batches it saw, and can be held (a long run) or made to fail.
/// </summary>
public sealed class DynamicBatcherTests : IDisposable
{
    private static readonly long[] s_shape = [1];
    private static readonly float[] s_twoValues = [2f, 0f];
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeRunner _runner = new();
    private DynamicBatcher? _batcher;

    public void Dispose()
    {
        _runner.Release();
        _batcher?.Dispose();
        _runner.Dispose();
    }

    private DynamicBatcher Start(int maxBatch = 4, double delayMs = 0, int capacity = 64, int instances = 1) =>
        _batcher = new DynamicBatcher("test", _runner, new BatchingSettings(maxBatch, TimeSpan.FromMilliseconds(delayMs), capacity, instances), _time);

    private Task<ModelOutput> Enqueue(float value, TimeSpan? timeout = null) =>
        _batcher!.EnqueueAsync(new[] { value }, s_shape, _time.GetUtcNow() + (timeout ?? TimeSpan.FromMinutes(1)), CancellationToken.None);

    private Task<ModelOutput> EnqueueCancellable(float value, CancellationToken cancellationToken) =>
        _batcher!.EnqueueAsync(new[] { value }, s_shape, _time.GetUtcNow() + TimeSpan.FromMinutes(1), cancellationToken);

    private static Task<ModelOutput> Within(Task<ModelOutput> task) => task.WaitAsync(s_wait, TestContext.Current.CancellationToken);

    private static async Task<float> ValueOf(Task<ModelOutput> task)
    {
        using ModelOutput output = await Within(task);
        return output.Data<float>()[0];
    }

    private static async Task<float[]> ValuesOf(params Task<ModelOutput>[] tasks)
    {
        var values = new float[tasks.Length];
        for (int i = 0; i < tasks.Length; i++)
        {
            values[i] = await ValueOf(tasks[i]);
        }

        return values;
    }

    [Fact]
    public async Task FullBatch_LeavesAtOnceWithoutWaitingForTheDelay()
    {
        Start(maxBatch: 4, delayMs: 1000);
        Task<ModelOutput>[] tasks = [Enqueue(1), Enqueue(2), Enqueue(3), Enqueue(4)];

        float[] values = await ValuesOf(tasks);

        Assert.Equal([2f, 4f, 6f, 8f], values);
        Assert.Equal([4], _runner.BatchSizes);
        Assert.Equal(4, (await tasks[0]).BatchSize);
    }

    [Fact]
    public async Task PartialBatch_LeavesWhenTheOldestHasWaitedTheDelay()
    {
        Start(maxBatch: 4, delayMs: 10);
        Task<ModelOutput> first = Enqueue(1);
        _time.Advance(TimeSpan.FromMilliseconds(4));
        Task<ModelOutput> second = Enqueue(2);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Empty(_runner.BatchSizes);

        // 10 ms after the *oldest* arrived (not the newest): the batch of two leaves.
        _time.Advance(TimeSpan.FromMilliseconds(6));

        Assert.Equal(2f, await ValueOf(first));
        Assert.Equal(4f, await ValueOf(second));
        Assert.Equal([2], _runner.BatchSizes);
        Assert.Equal(TimeSpan.FromMilliseconds(10), (await first).QueueWait);
    }

    [Fact]
    public async Task ZeroDelay_SendsWhatIsThere_AndArrivalsDuringARunFormTheNextBatch()
    {
        Start(maxBatch: 8, delayMs: 0, instances: 1);
        _runner.Hold();
        Task<ModelOutput> first = Enqueue(1);
        await _runner.WaitForRunsAsync(1);
        Task<ModelOutput>[] later = [Enqueue(2), Enqueue(3), Enqueue(4)];
        _runner.Release();

        Assert.Equal(2f, await ValueOf(first));
        float[] values = await ValuesOf(later);
        Assert.Equal([4f, 6f, 8f], values);
        Assert.Equal([1, 3], _runner.BatchSizes);
    }

    [Fact]
    public async Task BatchNeverExceedsItsMaximum()
    {
        Start(maxBatch: 3, delayMs: 0, instances: 1);
        _runner.Hold();
        Task<ModelOutput> first = Enqueue(0);
        await _runner.WaitForRunsAsync(1);
        var tasks = new List<Task<ModelOutput>>();
        for (int i = 1; i <= 7; i++)
        {
            tasks.Add(Enqueue(i));
        }

        _runner.Release();
        for (int i = 0; i < tasks.Count; i++)
        {
            Assert.Equal(2f * (i + 1), await ValueOf(tasks[i]));
        }

        await ValueOf(first);
        Assert.Equal([1, 3, 3, 1], _runner.BatchSizes);
    }

    [Fact]
    public async Task OnlySameShapedInputsShareABatch()
    {
        Start(maxBatch: 4, delayMs: 5);
        long[] other = [2];
        Task<ModelOutput> a = Enqueue(1);
        Task<ModelOutput> b = _batcher!.EnqueueAsync(s_twoValues, other, _time.GetUtcNow().AddMinutes(1), CancellationToken.None);
        Task<ModelOutput> c = Enqueue(3);
        _time.Advance(TimeSpan.FromMilliseconds(5));

        Assert.Equal(2f, await ValueOf(a));
        Assert.Equal(6f, await ValueOf(c));
        _time.Advance(TimeSpan.FromMilliseconds(5));
        Assert.Equal(4f, await ValueOf(b));
        Assert.Equal([2, 1], _runner.BatchSizes);
        Assert.Equal(2, _runner.Shapes.Distinct(new ShapeComparer()).Count());
        Assert.Equal(1, _runner.Shapes[0][0]);
        Assert.Equal(2, _runner.Shapes[1][0]);
    }

    [Fact]
    public async Task Deadline_ExpiresInTheQueue_AnsweredAtOnceAndNeverRun()
    {
        Start(maxBatch: 4, delayMs: 0, instances: 1);
        _runner.Hold();
        Task<ModelOutput> running = Enqueue(1);
        await _runner.WaitForRunsAsync(1);
        Task<ModelOutput> waiting = Enqueue(2, timeout: TimeSpan.FromMilliseconds(50));

        _time.Advance(TimeSpan.FromMilliseconds(50));

        // Answered while the model is still busy: not when a run frees up.
        DeadlineExceededException expired = await Assert.ThrowsAsync<DeadlineExceededException>(() => waiting.WaitAsync(s_wait, TestContext.Current.CancellationToken));
        Assert.Contains("50 ms", expired.Message, StringComparison.Ordinal);
        _runner.Release();
        Assert.Equal(2f, await ValueOf(running));
        await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.Equal([1f], _runner.Inputs);
        Assert.Equal(1, _batcher!.Statistics().Outcomes["expired"]);
    }

    [Fact]
    public async Task Deadline_AlreadyPast_IsRefusedAtOnce()
    {
        Start();
        Task<ModelOutput> task = _batcher!.EnqueueAsync(s_twoValues.AsMemory(0, 1), s_shape, _time.GetUtcNow(), CancellationToken.None);
        await Assert.ThrowsAsync<DeadlineExceededException>(() => task);
    }

    [Fact]
    public async Task Cancellation_WhileWaitingForARun_RemovesTheItem()
    {
        Start(maxBatch: 4, delayMs: 0, instances: 1);
        _runner.Hold();
        Task<ModelOutput> running = Enqueue(1);
        await _runner.WaitForRunsAsync(1);
        using var cancel = new CancellationTokenSource();
        Task<ModelOutput> cancelled = EnqueueCancellable(2, cancel.Token);
        Task<ModelOutput> kept = Enqueue(3);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(s_wait, TestContext.Current.CancellationToken));
        Assert.Equal(1, _batcher!.Depth);
        _runner.Release();

        Assert.Equal(6f, await ValueOf(kept));
        await ValueOf(running);
        Assert.Equal([1f, 3f], _runner.Inputs);
        Assert.Equal([1, 1], _runner.BatchSizes);
    }

    [Fact]
    public async Task Cancellation_WhileWaitingForTheDelay_TheRestStillLeavesOnTime()
    {
        Start(maxBatch: 4, delayMs: 20);
        using var cancel = new CancellationTokenSource();
        Task<ModelOutput> cancelled = EnqueueCancellable(1, cancel.Token);
        Task<ModelOutput> kept = Enqueue(2);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(s_wait, TestContext.Current.CancellationToken));

        _time.Advance(TimeSpan.FromMilliseconds(20));

        Assert.Equal(4f, await ValueOf(kept));
        Assert.Equal([1], _runner.BatchSizes);
    }

    [Fact]
    public async Task Cancellation_BeforeEnqueue_Throws()
    {
        Start();
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        Assert.Throws<OperationCanceledException>(() => { _ = EnqueueCancellable(1, cancel.Token); });
        await Task.Yield();
        Assert.Empty(_runner.BatchSizes);
    }

    [Fact]
    public async Task FullQueue_RejectsAtOnceWithRetryAfter_AndKeepsWhatItAccepted()
    {
        Start(maxBatch: 1, capacity: 2, instances: 1);
        _runner.Hold();
        Task<ModelOutput> running = Enqueue(1);
        await _runner.WaitForRunsAsync(1);
        Task<ModelOutput> second = Enqueue(2);
        Task<ModelOutput> third = Enqueue(3);

        QueueFullException full = Assert.Throws<QueueFullException>(() => { _ = Enqueue(4); });

        Assert.True(full.RetryAfter >= TimeSpan.FromSeconds(1), full.RetryAfter.ToString());
        Assert.Contains("full", full.Message, StringComparison.Ordinal);
        _runner.Release();
        float[] values = await ValuesOf(running, second, third);
        Assert.Equal([2f, 4f, 6f], values);
        Assert.Equal(1, _batcher!.Statistics().Outcomes["rejected"]);
    }

    [Fact]
    public async Task FailedBatch_FailsOnlyItsItems_AndTheQueueKeepsServing()
    {
        Start(maxBatch: 2, delayMs: 0, instances: 1);
        _runner.Hold();
        Task<ModelOutput> first = Enqueue(1);
        await _runner.WaitForRunsAsync(1);
        _runner.FailOn = -1f;
        Task<ModelOutput> poisoned = Enqueue(-1);
        Task<ModelOutput> sameBatch = Enqueue(5);
        _runner.Release();
        await ValueOf(first);

        BatchFailedException failed = await Assert.ThrowsAsync<BatchFailedException>(() => poisoned.WaitAsync(s_wait, TestContext.Current.CancellationToken));
        Assert.Contains("batch of 2", failed.Message, StringComparison.Ordinal);
        Assert.Contains("poisoned input", failed.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BatchFailedException>(() => sameBatch.WaitAsync(s_wait, TestContext.Current.CancellationToken));

        Assert.Equal(14f, await ValueOf(Enqueue(7)));
        QueueStatistics statistics = _batcher!.Statistics();
        Assert.Equal(2, statistics.Outcomes["failed"]);
        Assert.Equal(2, statistics.Outcomes["ok"]);
    }

    [Fact]
    public async Task ManyProducers_EveryResultGoesBackToItsOwnRequest()
    {
        Start(maxBatch: 8, delayMs: 0, capacity: 1000, instances: 2);
        var tasks = new ConcurrentBag<(float Value, Task<ModelOutput> Task)>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(producer => Task.Run(() =>
        {
            for (int i = 0; i < 50; i++)
            {
                float value = (producer * 1000) + i;
                tasks.Add((value, Enqueue(value)));
            }
        }, TestContext.Current.CancellationToken)));

        foreach ((float value, Task<ModelOutput> task) in tasks)
        {
            Assert.Equal(2 * value, await ValueOf(task));
        }

        Assert.Equal(400, _runner.BatchSizes.Sum());
        Assert.All(_runner.BatchSizes, size => Assert.InRange(size, 1, 8));
        QueueStatistics statistics = _batcher!.Statistics();
        Assert.Equal(400, statistics.Outcomes["ok"]);
        Assert.Equal(0, statistics.Depth);
    }

    [Fact]
    public async Task Instances_LimitRunsInFlight()
    {
        Start(maxBatch: 1, delayMs: 0, instances: 2);
        _runner.Hold();
        Task<ModelOutput>[] tasks = [Enqueue(1), Enqueue(2), Enqueue(3)];
        await _runner.WaitForRunsAsync(2);
        await Task.Delay(50, TestContext.Current.CancellationToken);

        Assert.Equal(2, _runner.Started);
        Assert.Equal(2, _batcher!.Statistics().InFlightBatches);
        _runner.Release();
        foreach (Task<ModelOutput> task in tasks)
        {
            await ValueOf(task);
        }
    }

    [Fact]
    public async Task Dispose_AnswersWaitingItems()
    {
        DynamicBatcher batcher = Start(maxBatch: 1, instances: 1);
        _runner.Hold();
        Task<ModelOutput> running = Enqueue(1);
        await _runner.WaitForRunsAsync(1);
        Task<ModelOutput> waiting = Enqueue(2);

        // Disposing answers the waiting item at once, then waits for the run in progress to finish.
        Task disposing = Task.Run(batcher.Dispose, TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<QueueStoppedException>(() => waiting.WaitAsync(s_wait, TestContext.Current.CancellationToken));
        _runner.Release();
        await disposing.WaitAsync(s_wait, TestContext.Current.CancellationToken);
        Assert.Equal(2f, await ValueOf(running));
        Assert.Throws<QueueStoppedException>(() => { _ = Enqueue(3); });
    }

    private sealed class ShapeComparer : IEqualityComparer<long[]>
    {
        public bool Equals(long[]? x, long[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(long[] obj) => obj.Length;
    }

    /// <summary>Doubles each input's first value; can be held mid-run or fail on a marked input.</summary>
    private sealed class FakeRunner : IBatchRunner, IDisposable
    {
        private readonly ManualResetEventSlim _open = new(true);
        private readonly object _gate = new();
        private int _started;

        public List<int> BatchSizes { get; } = [];

        public List<float> Inputs { get; } = [];

        public List<long[]> Shapes { get; } = [];

        public float? FailOn { get; set; }

        public int Started => Volatile.Read(ref _started);

        public void Hold() => _open.Reset();

        public void Release() => _open.Set();

        public async Task WaitForRunsAsync(int count)
        {
            var deadline = DateTime.UtcNow + s_wait;
            while (Started < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {Started} of {count} runs started");
                await Task.Delay(5, TestContext.Current.CancellationToken);
            }
        }

        public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape)
        {
            Interlocked.Increment(ref _started);
            lock (_gate)
            {
                BatchSizes.Add(inputs.Count);
                Shapes.Add(itemShape);
                foreach (ReadOnlyMemory<float> input in inputs)
                {
                    Inputs.Add(input.Span[0]);
                }
            }

            _open.Wait(s_wait);
            var outputs = new ModelOutput[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                if (inputs[i].Span[0] == FailOn)
                {
                    throw new InvalidOperationException("poisoned input");
                }

                outputs[i] = ModelOutput.Copy<float>([inputs[i].Span[0] * 2], TensorElementType.Float, [1]);
            }

            return outputs;
        }

        public void Dispose() => _open.Dispose();
    }
}
