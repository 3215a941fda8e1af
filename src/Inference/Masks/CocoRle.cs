using System.Text;

namespace SegServe.Inference.Masks;

/// <summary>
/// A binary mask as COCO run-length encoding, bit-compatible with pycocotools (<c>common/maskApi.c</c>): runs go down
/// the columns (column-major), alternate 0-runs and 1-runs starting with 0s, and serialise to the compressed string
/// form. Also the polygon rasteriser and union of pycocotools, so ground truth given as polygons has the same pixels.
/// The mask type of instance decoding and of COCO evaluation alike.
/// </summary>
public sealed class CocoRle
{
    public CocoRle(int height, int width, uint[] counts)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentNullException.ThrowIfNull(counts);
        Height = height;
        Width = width;
        Counts = counts;
    }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Alternating run lengths, 0s first.</summary>
    public uint[] Counts { get; }

    /// <summary>Pixels set: the sum of the odd-indexed runs.</summary>
    public long Area
    {
        get
        {
            long area = 0;
            for (int i = 1; i < Counts.Length; i += 2)
            {
                area += Counts[i];
            }

            return area;
        }
    }

    /// <summary>Encodes a row-major mask (non-zero = set) of <paramref name="height"/>×<paramref name="width"/>.</summary>
    public static CocoRle Encode(ReadOnlySpan<byte> mask, int height, int width)
    {
        if (mask.Length != height * width)
        {
            throw new ArgumentException($"The mask holds {mask.Length} values, not {height}×{width}.", nameof(mask));
        }

        var counts = new List<uint>();
        bool current = false;
        uint run = 0;
        for (int x = 0; x < width; x++)
        {
            for (int y = 0; y < height; y++)
            {
                bool set = mask[(y * width) + x] != 0;
                if (set != current)
                {
                    counts.Add(run);
                    run = 0;
                    current = set;
                }

                run++;
            }
        }

        counts.Add(run);
        return new CocoRle(height, width, [.. counts]);
    }

    /// <summary>Encodes the set pixels given by their column-major positions (<c>x · height + y</c>), ascending.</summary>
    public static CocoRle FromColumnMajorPositions(IReadOnlyList<int> positions, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var counts = new List<uint>();
        int next = 0;
        int i = 0;
        while (i < positions.Count)
        {
            int start = positions[i];
            int end = start + 1;
            i++;
            while (i < positions.Count && positions[i] == end)
            {
                end++;
                i++;
            }

            counts.Add((uint)(start - next));
            counts.Add((uint)(end - start));
            next = end;
        }

        counts.Add((uint)((height * width) - next));
        return new CocoRle(height, width, [.. counts]);
    }

    /// <summary>Decodes into a row-major mask (1 = set).</summary>
    public byte[] Decode()
    {
        byte[] mask = new byte[Height * Width];
        Fill(mask, 0, 0, Width, (byte)1);
        return mask;
    }

    /// <summary>
    /// Writes <paramref name="value"/> at every set pixel into a row-major window of an image: pixel (x, y) goes to
    /// <c>target[(y − originY) · stride + (x − originX)]</c>. The window must hold all set pixels.
    /// </summary>
    public void Fill<T>(Span<T> target, int originX, int originY, int stride, T value)
    {
        long position = 0;
        bool set = false;
        foreach (uint count in Counts)
        {
            if (set)
            {
                for (long p = position; p < position + count; p++)
                {
                    int x = (int)(p / Height);
                    int y = (int)(p % Height);
                    target[((y - originY) * stride) + (x - originX)] = value;
                }
            }

            position += count;
            set = !set;
        }
    }

    /// <summary>The smallest rectangle holding every set pixel; null for an empty mask.</summary>
    public (int X, int Y, int Width, int Height)? Bounds()
    {
        int xs = int.MaxValue, xe = -1, ys = int.MaxValue, ye = -1;
        long position = 0;
        bool set = false;
        foreach (uint count in Counts)
        {
            if (set && count > 0)
            {
                long first = position, last = position + count - 1;
                xs = Math.Min(xs, (int)(first / Height));
                xe = Math.Max(xe, (int)(last / Height));
                if (last / Height != first / Height)
                {
                    // The run wraps from one column into the next: it touches every row in between.
                    ys = 0;
                    ye = Height - 1;
                }
                else
                {
                    ys = Math.Min(ys, (int)(first % Height));
                    ye = Math.Max(ye, (int)(last % Height));
                }
            }

            position += count;
            set = !set;
        }

        return xe < 0 ? null : (xs, ys, xe - xs + 1, ye - ys + 1);
    }

    /// <summary>The compressed string form of the counts (pycocotools <c>rleToString</c>).</summary>
    public string ToCompressedString()
    {
        var text = new StringBuilder(Counts.Length * 2);
        for (int i = 0; i < Counts.Length; i++)
        {
            long x = Counts[i];
            if (i > 2)
            {
                x -= Counts[i - 2];
            }

            bool more = true;
            while (more)
            {
                long c = x & 0x1f;
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more)
                {
                    c |= 0x20;
                }

                text.Append((char)(c + 48));
            }
        }

        return text.ToString();
    }

    /// <summary>Reads the compressed string form (pycocotools <c>rleFrString</c>).</summary>
    /// <exception cref="FormatException">The string is not a valid encoding.</exception>
    public static CocoRle FromCompressedString(string counts, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var values = new List<uint>();
        int p = 0;
        while (p < counts.Length)
        {
            long x = 0;
            int k = 0;
            bool more = true;
            while (more)
            {
                if (p >= counts.Length || k > 12)
                {
                    throw new FormatException("The RLE string ends in the middle of a count.");
                }

                int c = counts[p] - 48;
                if (c is < 0 or > 0x3f)
                {
                    throw new FormatException($"'{counts[p]}' at {p} is not an RLE character.");
                }

                x |= (long)(c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0)
                {
                    x |= -1L << (5 * k);
                }
            }

            if (values.Count > 2)
            {
                x += values[^2];
            }

            if (x is < 0 or > uint.MaxValue)
            {
                throw new FormatException("The RLE string decodes to a negative run.");
            }

            values.Add((uint)x);
        }

        return Checked(new CocoRle(height, width, [.. values]));
    }

    /// <summary>An uncompressed RLE (<c>counts</c> as a list of numbers).</summary>
    public static CocoRle FromCounts(IReadOnlyList<long> counts, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var values = new uint[counts.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = counts[i] is >= 0 and <= uint.MaxValue ? (uint)counts[i] : throw new FormatException($"RLE count {counts[i]} is out of range.");
        }

        return Checked(new CocoRle(height, width, values));
    }

    /// <summary>Largest coordinate magnitude a polygon may have (pixels): far beyond any image this service reads.</summary>
    public const double MaxPolygonCoordinate = 1 << 30;

    /// <summary>The union of polygons (each x0,y0,x1,y1,… in pixels), rasterised as pycocotools' <c>frPyObjects</c> + <c>merge</c>.</summary>
    public static CocoRle FromPolygons(IReadOnlyList<IReadOnlyList<double>> polygons, int height, int width) =>
        FromPolygons(polygons, height, width, long.MaxValue);

    /// <summary>
    /// The union of polygons, rasterised as pycocotools does but only where the outline crosses the image's columns:
    /// the work and memory are proportional to the column crossings inside the image, whatever the coordinates.
    /// </summary>
    /// <param name="polygons">Each x0,y0,x1,y1,… in pixels, within ±<see cref="MaxPolygonCoordinate"/>.</param>
    /// <param name="height">Mask height.</param>
    /// <param name="width">Mask width.</param>
    /// <param name="maxCrossings">Most column crossings all polygons together may have.</param>
    /// <exception cref="FormatException">A polygon has too few points, a coordinate that is not finite or beyond ±<see cref="MaxPolygonCoordinate"/>, or more crossings than allowed.</exception>
    public static CocoRle FromPolygons(IReadOnlyList<IReadOnlyList<double>> polygons, int height, int width, long maxCrossings)
    {
        ArgumentNullException.ThrowIfNull(polygons);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        var parts = new List<CocoRle>(polygons.Count);
        long budget = maxCrossings;
        foreach (IReadOnlyList<double> polygon in polygons)
        {
            if (polygon.Count < 6 || polygon.Count % 2 != 0)
            {
                throw new FormatException($"A polygon needs at least 3 points as x,y pairs (got {polygon.Count} numbers).");
            }

            foreach (double value in polygon)
            {
                if (!double.IsFinite(value) || Math.Abs(value) > MaxPolygonCoordinate)
                {
                    throw new FormatException($"A polygon coordinate ({value}) is not a number within ±{MaxPolygonCoordinate}.");
                }
            }

            CocoRle part = FromPolygon(polygon, height, width, budget);
            budget -= part.Counts.Length;
            parts.Add(part);
        }

        return Union(parts, height, width);
    }

    /// <summary>Intersection over union of a detection and a ground truth (pycocotools <c>rleIou</c>); for crowd ground truth the denominator is the detection's area.</summary>
    public static double Iou(CocoRle detection, CocoRle truth, bool crowd)
    {
        ArgumentNullException.ThrowIfNull(detection);
        ArgumentNullException.ThrowIfNull(truth);
        if (detection.Height != truth.Height || detection.Width != truth.Width)
        {
            return -1;
        }

        if (detection.Counts.Length == 0 || truth.Counts.Length == 0)
        {
            return 0;
        }

        long intersection = 0;
        long union = 0;
        var stretches = new RunPairs(detection.Counts, truth.Counts);
        while (stretches.MoveNext())
        {
            if (stretches.InFirst || stretches.InSecond)
            {
                union += stretches.Length;
                if (stretches.InFirst && stretches.InSecond)
                {
                    intersection += stretches.Length;
                }
            }
        }

        if (intersection == 0)
        {
            return 0;
        }

        if (crowd)
        {
            union = detection.Area;
        }

        return (double)intersection / union;
    }

    private static CocoRle Checked(CocoRle rle)
    {
        long total = 0;
        foreach (uint count in rle.Counts)
        {
            total += count;
        }

        return total == (long)rle.Height * rle.Width
            ? rle
            : throw new FormatException($"The RLE runs cover {total} pixels, not {rle.Height}×{rle.Width} = {(long)rle.Height * rle.Width}.");
    }

    /// <summary>
    /// pycocotools <c>rleFrPoly</c>: the polygon's boundary traced at 5× resolution, then the column crossings. The
    /// trace is not walked point by point: along each edge the column index is monotonic, so only the steps where it
    /// passes a pixel column of the image are found (by bisection), which yields the same crossings as the full walk.
    /// </summary>
    private static CocoRle FromPolygon(IReadOnlyList<double> xy, int h, int w, long maxCrossings)
    {
        const double Scale = 5;
        int k = xy.Count / 2;
        var x = new long[k + 1];
        var y = new long[k + 1];
        for (int j = 0; j < k; j++)
        {
            x[j] = (long)((Scale * xy[j * 2]) + .5);
            y[j] = (long)((Scale * xy[(j * 2) + 1]) + .5);
        }

        x[k] = x[0];
        y[k] = y[0];
        var crossings = new List<uint>();
        long lastU = 0;
        long lastV = 0;
        for (int j = 0; j < k; j++)
        {
            var edge = new TracedEdge(x[j], y[j], x[j + 1], y[j + 1]);
            (long firstU, long firstV) = edge.First;
            if (j > 0)
            {
                AddCrossing(crossings, lastU, lastV, firstU, firstV, h, w, maxCrossings);
            }

            // Each pixel column c is crossed where the trace steps between 5c+2 and 5c+3 (pycocotools' xd test).
            long low = Math.Min(edge.U(0), edge.U(edge.Steps));
            long high = Math.Max(edge.U(0), edge.U(edge.Steps));
            long firstColumn = Math.Max(0, CeilingDiv(low - 2, 5));
            long lastColumn = Math.Min(w - 1, FloorDiv(high - 3, 5));
            for (long c = firstColumn; c <= lastColumn; c++)
            {
                long t = edge.StepPast((5 * c) + 2);
                if (t < 1)
                {
                    continue;
                }

                // The trace visits t-1 then t, or t then t-1 when the edge is walked backwards.
                if (edge.Backwards)
                {
                    AddCrossing(crossings, edge.U(t), edge.V(t), edge.U(t - 1), edge.V(t - 1), h, w, maxCrossings);
                }
                else
                {
                    AddCrossing(crossings, edge.U(t - 1), edge.V(t - 1), edge.U(t), edge.V(t), h, w, maxCrossings);
                }
            }

            (lastU, lastV) = edge.Last;
        }

        crossings.Add((uint)(h * w));
        crossings.Sort();
        uint previous = 0;
        for (int j = 0; j < crossings.Count; j++)
        {
            uint t = crossings[j];
            crossings[j] -= previous;
            previous = t;
        }

        var b = new List<uint> { crossings[0] };
        int i = 1;
        while (i < crossings.Count)
        {
            if (crossings[i] > 0)
            {
                b.Add(crossings[i++]);
            }
            else
            {
                i++;
                if (i < crossings.Count)
                {
                    b[^1] += crossings[i++];
                }
            }
        }

        return new CocoRle(h, w, [.. b]);
    }

    /// <summary>One step of the trace, from (ua, va) to (ub, vb): a crossing where it changes column inside the image.</summary>
    private static void AddCrossing(List<uint> crossings, long ua, long va, long ub, long vb, int h, int w, long maxCrossings)
    {
        const double Scale = 5;
        if (ub == ua)
        {
            return;
        }

        double xd = ub < ua ? ub : ub - 1;
        xd = ((xd + .5) / Scale) - .5;
        if (Math.Floor(xd) != xd || xd < 0 || xd > w - 1)
        {
            return;
        }

        double yd = vb < va ? vb : va;
        yd = ((yd + .5) / Scale) - .5;
        yd = yd < 0 ? 0 : yd > h ? h : yd;
        yd = Math.Ceiling(yd);
        if (crossings.Count >= maxCrossings)
        {
            throw new FormatException($"The polygons cross the image's columns more than {maxCrossings} times.");
        }

        crossings.Add((uint)(((long)xd * h) + (long)yd));
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static long CeilingDiv(long a, long b) => -FloorDiv(-a, b);

    /// <summary>
    /// One polygon edge as pycocotools traces it: along its longer axis one step at a time (t = 0…<see cref="Steps"/>),
    /// the other coordinate rounded, walked backwards when it runs right-to-left (or bottom-to-top).
    /// </summary>
    private readonly struct TracedEdge
    {
        private readonly long _xs;
        private readonly long _ys;
        private readonly double _slope;
        private readonly bool _alongX;

        public TracedEdge(long xs, long ys, long xe, long ye)
        {
            long dx = Math.Abs(xe - xs);
            long dy = Math.Abs(ys - ye);
            _alongX = dx >= dy;
            Backwards = (_alongX && xs > xe) || (!_alongX && ys > ye);
            if (Backwards)
            {
                (xs, xe) = (xe, xs);
                (ys, ye) = (ye, ys);
            }

            _xs = xs;
            _ys = ys;
            _slope = _alongX ? (double)(ye - ys) / dx : (double)(xe - xs) / dy;
            Steps = _alongX ? dx : dy;
        }

        public long Steps { get; }

        public bool Backwards { get; }

        public (long U, long V) First => Backwards ? (U(Steps), V(Steps)) : (U(0), V(0));

        public (long U, long V) Last => Backwards ? (U(0), V(0)) : (U(Steps), V(Steps));

        public long U(long t) => _alongX ? _xs + t : (long)(_xs + (_slope * t) + .5);

        public long V(long t) => _alongX ? (long)(_ys + (_slope * t) + .5) : _ys + t;

        /// <summary>The first step t at which the (monotonic) column index has passed <paramref name="level"/> + ½, or −1 if it does not within the edge.</summary>
        public long StepPast(long level)
        {
            bool rising = U(Steps) >= U(0);
            long low = 0;
            long high = Steps + 1;
            while (low < high)
            {
                long mid = low + ((high - low) / 2);
                bool past = rising ? U(mid) > level : U(mid) <= level;
                if (past)
                {
                    high = mid;
                }
                else
                {
                    low = mid + 1;
                }
            }

            return low <= Steps ? low : -1;
        }
    }

    /// <summary>pycocotools <c>rleMerge</c> with <c>intersect = 0</c>: the union of masks of one size.</summary>
    internal static CocoRle Union(IReadOnlyList<CocoRle> parts, int h, int w)
    {
        if (parts.Count == 0)
        {
            return new CocoRle(h, w, [(uint)(h * w)]);
        }

        uint[] counts = parts[0].Counts;
        for (int n = 1; n < parts.Count; n++)
        {
            var merged = new List<uint>();
            long run = 0;
            bool value = false;
            var stretches = new RunPairs(counts, parts[n].Counts);
            while (stretches.MoveNext())
            {
                // A run ends where the union's value changes; zero-length stretches pass through as pycocotools' do.
                bool set = stretches.InFirst || stretches.InSecond;
                if (set != value)
                {
                    merged.Add((uint)run);
                    run = 0;
                    value = set;
                }

                run += stretches.Length;
            }

            merged.Add((uint)run);
            counts = [.. merged];
        }

        return new CocoRle(h, w, counts);
    }

    /// <summary>
    /// Walks two masks' runs together, one stretch at a time over which neither mask changes value — the loop that
    /// pycocotools' <c>rleIou</c> and <c>rleMerge</c> both write out by hand.
    /// </summary>
    private ref struct RunPairs(ReadOnlySpan<uint> first, ReadOnlySpan<uint> second)
    {
        private readonly ReadOnlySpan<uint> _first = first;
        private readonly ReadOnlySpan<uint> _second = second;
        private long _leftFirst = first[0];
        private long _leftSecond = second[0];
        private int _nextFirst = 1;
        private int _nextSecond = 1;
        private bool _valueFirst;
        private bool _valueSecond;
        private long _remaining = 1;

        /// <summary>Pixels in this stretch.</summary>
        public long Length { get; private set; }

        /// <summary>Whether the stretch is set in the first mask.</summary>
        public bool InFirst { get; private set; }

        /// <summary>Whether the stretch is set in the second mask.</summary>
        public bool InSecond { get; private set; }

        public bool MoveNext()
        {
            if (_remaining == 0)
            {
                return false;
            }

            Length = Math.Min(_leftFirst, _leftSecond);
            InFirst = _valueFirst;
            InSecond = _valueSecond;
            _leftFirst -= Length;
            if (_leftFirst == 0 && _nextFirst < _first.Length)
            {
                _leftFirst = _first[_nextFirst++];
                _valueFirst = !_valueFirst;
            }

            _leftSecond -= Length;
            if (_leftSecond == 0 && _nextSecond < _second.Length)
            {
                _leftSecond = _second[_nextSecond++];
                _valueSecond = !_valueSecond;
            }

            _remaining = _leftFirst + _leftSecond;
            return true;
        }
    }
}
