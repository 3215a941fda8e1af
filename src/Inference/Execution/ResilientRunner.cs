using Microsoft.ML.OnnxRuntime;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using SegServe.Inference.Decoding;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.Execution;

/// <summary>A model run stopped because it took longer than the model's run timeout.</summary>
public sealed class ModelRunTimeoutException(string model, TimeSpan timeout, Exception? innerException = null)
    : Exception($"The run of model '{model}' took longer than its limit of {timeout.TotalMilliseconds:0} ms and was stopped.", innerException)
{
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>The model's circuit breaker is open after repeated run failures: requests are refused until it probes again.</summary>
public sealed class ModelSuspendedException(string model, TimeSpan retryAfter, string? reason)
    : Exception($"Model '{model}' is suspended after repeated run failures{(reason is null ? "" : $" (last: {reason})")}; it will be tried again in about {Math.Ceiling(retryAfter.TotalSeconds):0} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>Some items of a batch ran and some could not: each item has either an output or a failure.</summary>
public sealed class PartialBatchException(IReadOnlyList<ModelOutput?> outputs, IReadOnlyList<Exception?> failures)
    : Exception("Some items of the batch could not run.")
{
    public IReadOnlyList<ModelOutput?> Outputs { get; } = outputs;

    public IReadOnlyList<Exception?> Failures { get; } = failures;
}

/// <summary>The circuit of one model, as reported: state, and while open when it will be tried again and why it opened.</summary>
/// <param name="State"><c>closed</c> (serving), <c>open</c> (refusing), <c>half-open</c> (one probe run allowed).</param>
/// <param name="RetryAfter">While open: how long until a probe.</param>
/// <param name="LastFailure">Why the last run failed, if one has.</param>
public sealed record CircuitStatus(string State, TimeSpan? RetryAfter, string? LastFailure);

/// <summary>
/// A model's runs behind Polly v8: a timeout that stops the run itself (ONNX Runtime's <see cref="RunOptions.Terminate"/>,
/// one <see cref="RunOptions"/> per run) and a circuit breaker that, after repeated failures, refuses the model's
/// requests at once for a while instead of letting each of them wait for a run that fails. A batch that fails to
/// allocate memory is split and its halves run again, down to single images, so only an image that cannot run alone
/// fails; repeated allocation failures of single images re-create the session. A batch whose run fails for one of its
/// inputs (a model that cannot take some image) is split the same way, so that the input that fails alone fails and the
/// others in its batch are answered; only runs of a single input count towards the circuit, so one bad image batched
/// with many good ones does not suspend the model.
/// </summary>
public sealed class ResilientRunner : IBatchRunner
{
    private static readonly ResiliencePropertyKey<int> s_itemsInRun = new("segserve.items-in-run");

    private readonly string _model;
    private readonly IRunSession _session;
    private readonly ResilienceSettings _settings;
    private readonly TimeProvider _time;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly ResiliencePipeline<ModelOutput[]> _pipeline;
    private DateTimeOffset _openUntil;
    private string? _lastFailure;
    private int _allocationFailuresInARow;

    public ResilientRunner(string model, IRunSession session, ResilienceSettings settings, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _model = model;
        _session = session;
        _settings = settings;
        _time = timeProvider;
        _pipeline = new ResiliencePipelineBuilder<ModelOutput[]> { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<ModelOutput[]>
            {
                FailureRatio = settings.FailureRatio,
                MinimumThroughput = settings.MinimumThroughput,
                SamplingDuration = settings.SamplingDuration,
                BreakDuration = settings.BreakDuration,
                StateProvider = _circuit,

                ShouldHandle = static args => ValueTask.FromResult(CountsAsFailure(args.Outcome.Exception, args.Context)),
                OnOpened = args =>
                {
                    _openUntil = _time.GetUtcNow() + args.BreakDuration;
                    return default;
                },
            })
            .AddTimeout(settings.RunTimeout)
            .Build();
    }

    /// <summary>The circuit's state now.</summary>
    public CircuitStatus Status
    {
        get
        {
            CircuitState state = _circuit.CircuitState;
            bool open = IsOpen();
            string text = open ? "open"
                : state is CircuitState.Open or CircuitState.HalfOpen ? "half-open"
                : "closed";
            return new CircuitStatus(text, open ? RetryAfter() : null, Volatile.Read(ref _lastFailure));
        }
    }

    /// <summary>Throws when the circuit is open: requests are refused before they are read, decoded or queued.</summary>
    /// <exception cref="ModelSuspendedException">The circuit is open.</exception>
    public void ThrowIfSuspended()
    {
        if (IsOpen())
        {
            throw new ModelSuspendedException(_model, RetryAfter(), Volatile.Read(ref _lastFailure));
        }
    }

    // Polly moves an open circuit to half-open on the first execution after the break: until then its state still
    // reads open, but the break is over and a request must be let through to be that probe.
    private bool IsOpen() => _circuit.CircuitState switch
    {
        CircuitState.Isolated => true,
        CircuitState.Open => _time.GetUtcNow() < _openUntil,
        _ => false,
    };

    /// <inheritdoc/>
    public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var outputs = new ModelOutput?[inputs.Count];
        var failures = new Exception?[inputs.Count];
        RunOrSplit(inputs, itemShape, 0, inputs.Count, outputs, failures);
        if (Array.TrueForAll(failures, static f => f is null))
        {
            return outputs!;
        }

        if (Array.TrueForAll(outputs, static o => o is null))
        {
            // Nothing ran: the batch failed as one (the first failure says why).
            throw failures[0]!;
        }

        throw new PartialBatchException(outputs, failures);
    }

    private void RunOrSplit(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape, int start, int count, ModelOutput?[] outputs, Exception?[] failures)
    {
        IReadOnlyList<ReadOnlyMemory<float>> slice = start == 0 && count == inputs.Count ? inputs : Slice(inputs, start, count);
        try
        {
            ModelOutput[] results = RunOnce(slice, itemShape);
            results.CopyTo(outputs, start);
            Interlocked.Exchange(ref _allocationFailuresInARow, 0);
        }
        catch (Exception ex) when (count > 1 && (IsAllocationFailure(ex) || IsInputFailure(ex)))
        {
            // Too big together, or one of them cannot run: try each half on its own.
            int half = count / 2;
            RunOrSplit(inputs, itemShape, start, half, outputs, failures);
            RunOrSplit(inputs, itemShape, start + half, count - half, outputs, failures);
        }
#pragma warning disable CA1031 // A failure of this slice fails its items only; the caller reports each.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (IsAllocationFailure(ex) && Interlocked.Increment(ref _allocationFailuresInARow) >= _settings.RecreateSessionAfter)
            {
                Interlocked.Exchange(ref _allocationFailuresInARow, 0);
                _session.Recreate();
            }

            if (ex is not ModelSuspendedException)
            {
                Volatile.Write(ref _lastFailure, ex.Message);
            }

            for (int i = start; i < start + count; i++)
            {
                failures[i] = ex;
            }
        }
    }

    /// <summary>One run through the pipeline, its exceptions in the engine's terms.</summary>
    private ModelOutput[] RunOnce(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get();
        context.Properties.Set(s_itemsInRun, inputs.Count);
        try
        {
            return _pipeline.Execute(
                static (context, state) =>
                {
                    CancellationToken token = context.CancellationToken;
                    using var runOptions = new RunOptions();
                    using CancellationTokenRegistration stop = token.Register(static o => ((RunOptions)o!).Terminate = true, runOptions);
                    try
                    {
                        return state.Session.RunBatch(state.Inputs, state.Shape, runOptions);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException && token.IsCancellationRequested)
                    {
                        // Terminated by the timeout: let Polly see the cancellation it asked for.
                        throw new OperationCanceledException(token);
                    }
                },
                context,
                (Session: _session, Inputs: inputs, Shape: itemShape));
        }
        catch (TimeoutRejectedException ex)
        {
            throw new ModelRunTimeoutException(_model, _settings.RunTimeout, ex);
        }
        catch (BrokenCircuitException)
        {
            throw new ModelSuspendedException(_model, RetryAfter(), Volatile.Read(ref _lastFailure));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Which failed runs count towards the circuit: timeouts and malformed outputs always (they are the model's), a run
    /// that ONNX Runtime refused only when it held one input (a batch's failure is split to find that input first),
    /// allocation failures never (the batch is split and retried).
    /// </summary>
    private static bool CountsAsFailure(Exception? exception, ResilienceContext context) => exception switch
    {
        TimeoutRejectedException or ModelOutputException => true,
        OnnxRuntimeException ort => !IsAllocationFailure(ort) && context.Properties.GetValue(s_itemsInRun, 1) == 1,
        _ => false,
    };

    /// <summary>A run ONNX Runtime refused (a kernel's error on these inputs), not a timeout or a lack of memory.</summary>
    internal static bool IsInputFailure(Exception exception) => exception is OnnxRuntimeException && !IsAllocationFailure(exception);

    private TimeSpan RetryAfter()
    {
        TimeSpan left = _openUntil - _time.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.FromSeconds(1);
    }

    private static ReadOnlyMemory<float>[] Slice(IReadOnlyList<ReadOnlyMemory<float>> inputs, int start, int count)
    {
        var slice = new ReadOnlyMemory<float>[count];
        for (int i = 0; i < count; i++)
        {
            slice[i] = inputs[start + i];
        }

        return slice;
    }

    /// <summary>ONNX Runtime's and .NET's ways of saying memory could not be allocated (CPU arena or CUDA).</summary>
    internal static bool IsAllocationFailure(Exception exception) => exception switch
    {
        OutOfMemoryException or InsufficientMemoryException => true,
        OnnxRuntimeException ort => ort.Message.Contains("alloc", StringComparison.OrdinalIgnoreCase)
            || ort.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };
}
