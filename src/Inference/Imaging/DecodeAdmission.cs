namespace SegServe.Inference.Imaging;

/// <summary>
/// A budget of decoded bytes in flight (<c>Inference:Images:MaxDecodedBytesInFlight</c>): a request reserves what its
/// image will cost, from the header, before the full decode, and gives it back when its decoded image is disposed. So
/// concurrent heavy uploads are bounded by the budget, not by nothing. A request that does not fit waits, first come
/// first served, at most <c>AdmissionWaitMilliseconds</c>, and is then refused (429 with <c>Retry-After</c>).
/// </summary>
public sealed class DecodeAdmission
{
    /// <summary>What a refused request is told to wait before it tries again.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly TimeSpan _maxWait;
    private readonly TimeProvider _time;
    private long _inFlight;

    public DecodeAdmission(long capacityBytes, TimeSpan maxWait, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        CapacityBytes = capacityBytes;
        _maxWait = maxWait;
        _time = timeProvider;
    }

    /// <summary>The budget, in bytes.</summary>
    public long CapacityBytes { get; }

    /// <summary>Bytes reserved now.</summary>
    public long BytesInFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>Reserves <paramref name="bytes"/>, waiting for room at most the configured time.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More bytes than the whole budget: waiting can never help.</exception>
    /// <exception cref="DecodeOverloadedException">No room came free in time.</exception>
    /// <exception cref="OperationCanceledException">The request was cancelled while it waited.</exception>
    public async ValueTask<DecodeReservation> ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, CapacityBytes);
        Waiter waiter;
        lock (_gate)
        {
            // Nobody overtakes a waiter: a large image that waits is not starved by a stream of small ones.
            if (_waiters.Count == 0 && _inFlight + bytes <= CapacityBytes)
            {
                _inFlight += bytes;
                return new DecodeReservation(this, bytes);
            }

            if (_maxWait == TimeSpan.Zero)
            {
                throw Overloaded(bytes, _inFlight);
            }

            waiter = new Waiter(this, bytes);
            waiter.Node = _waiters.AddLast(waiter);
        }

        using var timeout = new CancellationTokenSource(_maxWait, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        using CancellationTokenRegistration registration = either.Token.Register(static state => ((Waiter)state!).GiveUp(), waiter);
        try
        {
            return await waiter.Granted.Task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Overloaded(bytes, BytesInFlight);
        }
    }

    internal void Release(long bytes)
    {
        List<Waiter>? granted = null;
        lock (_gate)
        {
            _inFlight -= bytes;
            GrantWaiting(ref granted);
        }

        Complete(granted);
    }

    // A waiter whose time ran out (or whose request went away) leaves the line, unless it was granted meanwhile; the
    // ones behind it may fit now.
    private void GiveUp(Waiter waiter)
    {
        List<Waiter>? granted = null;
        lock (_gate)
        {
            if (waiter.Node?.List is null)
            {
                return;
            }

            _waiters.Remove(waiter.Node);
            GrantWaiting(ref granted);
        }

        waiter.Granted.TrySetCanceled();
        Complete(granted);
    }

    private void GrantWaiting(ref List<Waiter>? granted)
    {
        while (_waiters.First is { } first && _inFlight + first.Value.Bytes <= CapacityBytes)
        {
            _inFlight += first.Value.Bytes;
            _waiters.RemoveFirst();
            (granted ??= []).Add(first.Value);
        }
    }

    private void Complete(List<Waiter>? granted)
    {
        if (granted is null)
        {
            return;
        }

        // Outside the lock; a granted waiter has left the line, so its time running out cannot cancel it any more.
        foreach (Waiter waiter in granted)
        {
            waiter.Granted.SetResult(new DecodeReservation(this, waiter.Bytes));
        }
    }

    private DecodeOverloadedException Overloaded(long bytes, long inFlight) => new(
        $"The images being decoded hold {inFlight} of the {CapacityBytes} bytes of Inference:Images:MaxDecodedBytesInFlight; "
        + $"this image needs {bytes} and no room came free within {_maxWait.TotalMilliseconds:0} ms "
        + "(Inference:Images:AdmissionWaitMilliseconds). Try again shortly.",
        RetryAfter);

    private sealed class Waiter(DecodeAdmission admission, long bytes)
    {
        public long Bytes { get; } = bytes;

        public LinkedListNode<Waiter>? Node { get; set; }

        public TaskCompletionSource<DecodeReservation> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void GiveUp() => admission.GiveUp(this);
    }
}

/// <summary>Bytes held in a <see cref="DecodeAdmission"/>; disposing gives them back (once).</summary>
public sealed class DecodeReservation : IDisposable
{
    private DecodeAdmission? _admission;

    internal DecodeReservation(DecodeAdmission admission, long bytes)
    {
        _admission = admission;
        Bytes = bytes;
    }

    /// <summary>The bytes held.</summary>
    public long Bytes { get; }

    public void Dispose() => Interlocked.Exchange(ref _admission, null)?.Release(Bytes);
}

/// <summary>The decode budget stayed full while the request waited for room (429 <c>overloaded</c>).</summary>
public sealed class DecodeOverloadedException : Exception
{
    public DecodeOverloadedException()
    {
    }

    public DecodeOverloadedException(string message)
        : base(message)
    {
    }

    public DecodeOverloadedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DecodeOverloadedException(string message, TimeSpan retryAfter)
        : base(message)
    {
        RetryAfter = retryAfter;
    }

    /// <summary>When to try again.</summary>
    public TimeSpan RetryAfter { get; } = DecodeAdmission.RetryAfter;
}
