using Microsoft.Extensions.Time.Testing;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Execution;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.UnitTests.Execution;

/// <summary>
/// The resilience of model runs on a fake session and a fake clock: a batch too big to allocate is split down to the
/// images that cannot run alone; repeated failures open the circuit, which refuses at once and probes after its break;
/// repeated allocation failures of single images re-create the session.
/// </summary>
public sealed class ResilientRunnerTests
{
    private static readonly long[] s_shape = [1];

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 0, 0, 0, TimeSpan.Zero));

    private static ResilienceSettings Settings(int minimumThroughput = 2) =>
        new(TimeSpan.FromSeconds(5), 0.5, minimumThroughput, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), RecreateSessionAfter: 3);

    [Fact]
    public void ABatchThatCannotAllocate_IsSplit_AndOnlyTheImageThatCannotRunAloneFails()
    {
        // Any batch holding the value 3 fails to allocate; so does the image 3 alone.
        var session = new FakeSession(inputs => inputs.Any(static i => i.Span[0] == 3f) ? Allocation() : null);
        var runner = new ResilientRunner("m", session, Settings(), _time);

        PartialBatchException partial = Assert.Throws<PartialBatchException>(() => runner.RunBatch(Inputs(1, 2, 3, 4), s_shape));

        Assert.Equal([2f, 4f, null, 8f], partial.Outputs.Select(static o => o is null ? (float?)null : o.Data<float>()[0]));
        Assert.IsType<InsufficientMemoryException>(partial.Failures[2]);
        Assert.Null(partial.Failures[0]);
        Assert.Null(partial.Failures[1]);
        Assert.Null(partial.Failures[3]);
        // [1,2,3,4] → [1,2] ok, [3,4] fails → [3] fails, [4] ok.
        Assert.Equal([4, 2, 2, 1, 1], session.BatchSizes);
    }

    [Fact]
    public void ABatchThatRuns_IsReturnedWhole()
    {
        var runner = new ResilientRunner("m", new FakeSession(static _ => null), Settings(), _time);
        ModelOutput[] outputs = runner.RunBatch(Inputs(1, 2), s_shape);
        Assert.Equal([2f, 4f], outputs.Select(static o => o.Data<float>()[0]));
    }

    [Fact]
    public void RepeatedFailures_OpenTheCircuit_WhichRefusesAtOnce_ThenProbesAfterItsBreak()
    {
        bool failing = true;
        var session = new FakeSession(_ => failing ? new SegServe.Inference.Decoding.ModelOutputException("Non-zero status code returned while running Conv node.") : null);
        var runner = new ResilientRunner("m", session, Settings(minimumThroughput: 2), _time);

        Assert.Throws<SegServe.Inference.Decoding.ModelOutputException>(() => runner.RunBatch(Inputs(1), s_shape));
        Assert.Throws<SegServe.Inference.Decoding.ModelOutputException>(() => runner.RunBatch(Inputs(1), s_shape));
        Assert.Equal("open", runner.Status.State);
        Assert.Contains("Conv node", runner.Status.LastFailure, StringComparison.Ordinal);

        // Open: refused before any run, with how long until the probe.
        int runs = session.BatchSizes.Count;
        ModelSuspendedException suspended = Assert.Throws<ModelSuspendedException>(runner.ThrowIfSuspended);
        Assert.Equal(TimeSpan.FromSeconds(10), suspended.RetryAfter);
        Assert.Throws<ModelSuspendedException>(() => runner.RunBatch(Inputs(1), s_shape));
        Assert.Equal(runs, session.BatchSizes.Count);

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(TimeSpan.FromSeconds(6), Assert.Throws<ModelSuspendedException>(runner.ThrowIfSuspended).RetryAfter);

        // After the break one probe runs; it succeeds, and the circuit closes.
        _time.Advance(TimeSpan.FromSeconds(7));
        failing = false;
        runner.ThrowIfSuspended();
        Assert.Equal(2f, runner.RunBatch(Inputs(1), s_shape)[0].Data<float>()[0]);
        Assert.Equal("closed", runner.Status.State);
    }

    [Fact]
    public void AllocationFailures_DoNotOpenTheCircuit_ButRepeatedOnesRecreateTheSession()
    {
        var session = new FakeSession(static _ => Allocation());
        var runner = new ResilientRunner("m", session, Settings(minimumThroughput: 2), _time);

        for (int i = 0; i < 3; i++)
        {
            Assert.Throws<InsufficientMemoryException>(() => runner.RunBatch(Inputs(1), s_shape));
        }

        Assert.Equal("closed", runner.Status.State);
        Assert.Equal(1, session.Recreations);
    }

    [Fact]
    public void ARunThatOverstaysItsTimeout_IsTerminatedThroughItsRunOptions()
    {
        // The fake session blocks until its run options are terminated, as ONNX Runtime does; the clock is real here
        // because the timeout is Polly's (a 100 ms timer), and termination must come from it.
        var session = new FakeSession(static _ => null, blockUntilTerminated: true);
        var settings = new ResilienceSettings(TimeSpan.FromMilliseconds(100), 0.5, 10, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10), 3);
        var runner = new ResilientRunner("slow", session, settings, TimeProvider.System);

        ModelRunTimeoutException timeout = Assert.Throws<ModelRunTimeoutException>(() => runner.RunBatch(Inputs(1), s_shape));

        Assert.Equal(TimeSpan.FromMilliseconds(100), timeout.Timeout);
        Assert.True(session.Terminated);
        Assert.Contains("100 ms", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABatchWhoseRunFailsForOneInput_IsSplit_AndOnlyThatInputFails_WithoutOpeningTheCircuit()
    {
        // A kernel refuses any batch holding 3 (as a Gather out of bounds would), and 3 alone.
        var session = new FakeSession(static inputs => inputs.Any(static i => i.Span[0] == 3f) ? RunFailure() : null);
        var runner = new ResilientRunner("m", session, Settings(minimumThroughput: 2), _time);

        PartialBatchException partial = Assert.Throws<PartialBatchException>(() => runner.RunBatch(Inputs(1, 2, 3, 4), s_shape));

        Assert.Equal([2f, 4f, null, 8f], partial.Outputs.Select(static o => o is null ? (float?)null : o.Data<float>()[0]));
        Assert.IsType<OnnxRuntimeException>(partial.Failures[2]);
        Assert.Equal([4, 2, 2, 1, 1], session.BatchSizes);

        // Of the five runs two failed, but only the run of the single input counts as a failure (1 of 5).
        Assert.Equal("closed", runner.Status.State);
        Assert.Contains("out of data bounds", runner.Status.LastFailure, StringComparison.Ordinal);

        // A model failing on every input is still suspended: three more failed single runs make 4 of 8 (ratio 0.5).
        for (int i = 0; i < 2; i++)
        {
            Assert.Throws<OnnxRuntimeException>(() => runner.RunBatch(Inputs(3), s_shape));
            Assert.Equal("closed", runner.Status.State);
        }

        Assert.Throws<OnnxRuntimeException>(() => runner.RunBatch(Inputs(3), s_shape));
        Assert.Equal("open", runner.Status.State);
    }

    // What ONNX Runtime throws when a kernel refuses its inputs; its constructor is internal, so it is made as ONNX
    // Runtime makes it.
    private static OnnxRuntimeException RunFailure()
    {
        Type errorCode = typeof(OnnxRuntimeException).Assembly.GetType("Microsoft.ML.OnnxRuntime.ErrorCode", throwOnError: true)!;
        return (OnnxRuntimeException)Activator.CreateInstance(
            typeof(OnnxRuntimeException),
            System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic,
            binder: null,
            args: [Enum.Parse(errorCode, "RuntimeException"), "Non-zero status code returned while running Gather node. indices element out of data bounds, idx=1 must be within the inclusive range [-1,0]"],
            culture: null)!;
    }

    // ONNX Runtime's own exception cannot be made outside it; .NET's allocation failure is recognised alike.
    private static InsufficientMemoryException Allocation() => new("Failed to allocate memory for requested buffer of size 4294967296");

    private static ReadOnlyMemory<float>[] Inputs(params float[] values) => [.. values.Select(static v => new ReadOnlyMemory<float>([v]))];

    /// <summary>Doubles each input, unless <paramref name="fail"/> returns an exception for the batch.</summary>
    private sealed class FakeSession(Func<IReadOnlyList<ReadOnlyMemory<float>>, Exception?> fail, bool blockUntilTerminated = false) : IRunSession
    {
        public List<int> BatchSizes { get; } = [];

        public int Recreations { get; private set; }

        public bool Terminated { get; private set; }

        public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape, RunOptions runOptions)
        {
            BatchSizes.Add(inputs.Count);
            if (blockUntilTerminated)
            {
                SpinWait.SpinUntil(() => runOptions.Terminate, TimeSpan.FromSeconds(10));
                Terminated = runOptions.Terminate;
                throw new InvalidOperationException("Exiting due to terminate flag being set to true.");
            }

            if (fail(inputs) is Exception exception)
            {
                throw exception;
            }

            return [.. inputs.Select(static i => ModelOutput.Copy<float>([i.Span[0] * 2], TensorElementType.Float, [1]))];
        }

        public bool Recreate()
        {
            Recreations++;
            return true;
        }
    }
}
