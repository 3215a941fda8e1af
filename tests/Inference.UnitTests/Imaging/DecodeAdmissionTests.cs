using Microsoft.Extensions.Time.Testing;
using SegServe.Inference.Imaging;

namespace SegServe.Inference.UnitTests.Imaging;

public sealed class DecodeAdmissionTests
{
    private readonly FakeTimeProvider _clock = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Reserve_WithinTheBudget_HoldsTheBytesUntilDisposedOnce()
    {
        var admission = new DecodeAdmission(1_000, TimeSpan.Zero, _clock);

        DecodeReservation a = await admission.ReserveAsync(600, Token);
        DecodeReservation b = await admission.ReserveAsync(400, Token);
        Assert.Equal(1_000, admission.BytesInFlight);

        a.Dispose();
        a.Dispose();
        Assert.Equal(400, admission.BytesInFlight);
        b.Dispose();
        Assert.Equal(0, admission.BytesInFlight);
    }

    [Fact]
    public async Task Reserve_NoRoomAndNoWait_RefusedAtOnceNamingTheBudget()
    {
        var admission = new DecodeAdmission(1_000, TimeSpan.Zero, _clock);
        using DecodeReservation held = await admission.ReserveAsync(600, Token);

        DecodeOverloadedException ex = await Assert.ThrowsAsync<DecodeOverloadedException>(async () => await admission.ReserveAsync(401, Token));

        Assert.Equal(TimeSpan.FromSeconds(1), ex.RetryAfter);
        Assert.StartsWith("The images being decoded hold 600 of the 1000 bytes of Inference:Images:MaxDecodedBytesInFlight; this image needs 401", ex.Message, StringComparison.Ordinal);
        Assert.Equal(600, admission.BytesInFlight);
    }

    [Fact]
    public async Task Reserve_RoomComesFreeWithinTheWait_Granted()
    {
        var admission = new DecodeAdmission(1_000, TimeSpan.FromMilliseconds(100), _clock);
        DecodeReservation held = await admission.ReserveAsync(600, Token);

        Task<DecodeReservation> waiting = admission.ReserveAsync(500, Token).AsTask();
        _clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(waiting.IsCompleted);
        held.Dispose();

        using DecodeReservation granted = await waiting;
        Assert.Equal(500, granted.Bytes);
        Assert.Equal(500, admission.BytesInFlight);
    }

    [Fact]
    public async Task Reserve_NoRoomWithinTheWait_RefusedAndHoldsNothing()
    {
        var admission = new DecodeAdmission(1_000, TimeSpan.FromMilliseconds(100), _clock);
        using DecodeReservation held = await admission.ReserveAsync(600, Token);

        Task<DecodeReservation> waiting = admission.ReserveAsync(500, Token).AsTask();
        _clock.Advance(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAsync<DecodeOverloadedException>(() => waiting);
        Assert.Equal(600, admission.BytesInFlight);
    }

    [Fact]
    public async Task Reserve_SmallRequestBehindAWaitingLargeOne_WaitsItsTurn()
    {
        var admission = new DecodeAdmission(1_000, TimeSpan.FromSeconds(1), _clock);
        DecodeReservation held = await admission.ReserveAsync(900, Token);

        Task<DecodeReservation> large = admission.ReserveAsync(500, Token).AsTask();
        Task<DecodeReservation> small = admission.ReserveAsync(50, Token).AsTask(); // 950 would fit, but the large one is first
        Assert.False(small.IsCompleted);
        held.Dispose();

        using DecodeReservation first = await large;
        using DecodeReservation second = await small;
        Assert.Equal(550, admission.BytesInFlight);
    }

    [Fact]
    public async Task Reserve_WaiterTimesOut_TheOneBehindItIsGrantedIfItFits()
    {
        var admission = new DecodeAdmission(1_000, TimeSpan.FromMilliseconds(100), _clock);
        using DecodeReservation held = await admission.ReserveAsync(900, Token);

        Task<DecodeReservation> large = admission.ReserveAsync(500, Token).AsTask();
        _clock.Advance(TimeSpan.FromMilliseconds(50));
        Task<DecodeReservation> small = admission.ReserveAsync(100, Token).AsTask();
        _clock.Advance(TimeSpan.FromMilliseconds(50)); // the large one's wait ends; the small one fits beside the 900

        await Assert.ThrowsAsync<DecodeOverloadedException>(() => large);
        using DecodeReservation granted = await small;
        Assert.Equal(1_000, admission.BytesInFlight);
    }

    [Fact]
    public async Task Reserve_RequestCancelledWhileWaiting_IsCancellationNotOverload()
    {
        var admission = new DecodeAdmission(1_000, TimeSpan.FromSeconds(1), _clock);
        using DecodeReservation held = await admission.ReserveAsync(900, Token);
        using var request = new CancellationTokenSource();

        Task<DecodeReservation> waiting = admission.ReserveAsync(500, request.Token).AsTask();
        await request.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(900, admission.BytesInFlight);
    }

    [Fact]
    public async Task Reserve_MoreThanTheWholeBudget_IsAnArgumentError()
    {
        var admission = new DecodeAdmission(1_000, TimeSpan.FromSeconds(1), _clock);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await admission.ReserveAsync(1_001, Token));
    }
}
