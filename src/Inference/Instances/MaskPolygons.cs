using SegServe.Inference.Masks;

namespace SegServe.Inference.Instances;

/// <summary>One connected part of a mask: its outer ring and its holes, each as x0, y0, x1, y1, … in image pixels.</summary>
public sealed record MaskPolygon(double[] Outer, IReadOnlyList<double[]> Holes);

/// <summary>
/// A mask's outline as polygons: the pixel edges between set and clear pixels are followed into closed rings (so an
/// unsimplified ring encloses exactly the mask's pixels, as pycocotools rasterises it), outer rings and holes told
/// apart by their orientation, then simplified by Douglas–Peucker within a tolerance in pixels.
/// </summary>
public static class MaskPolygons
{
    public static List<MaskPolygon> Trace(CocoRle mask, double tolerance)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentOutOfRangeException.ThrowIfNegative(tolerance);
        int height = mask.Height;
        int width = mask.Width;

        // The mask over its bounding rectangle, with a clear border of one pixel so every ring closes inside it.
        if (mask.Bounds() is not (int xs, int ys, int maskWidth, int maskHeight))
        {
            return [];
        }

        int w = maskWidth + 2;
        int h = maskHeight + 2;
        bool[] inside = new bool[w * h];
        mask.Fill<bool>(inside, xs - 1, ys - 1, w, true);

        // Directed edges along pixel sides with the mask on the right-hand side (image y grows downwards), keyed by
        // their start corner. Corners are (x, y) in the padded grid, 0..w by 0..h.
        var outgoing = new Dictionary<int, List<int>>();
        int Corner(int x, int y) => (y * (w + 1)) + x;
        void Edge(int from, int to)
        {
            if (!outgoing.TryGetValue(from, out List<int>? list))
            {
                list = new List<int>(2);
                outgoing[from] = list;
            }

            list.Add(to);
        }

        for (int y = 1; y < h - 1; y++)
        {
            for (int x = 1; x < w - 1; x++)
            {
                if (!inside[(y * w) + x])
                {
                    continue;
                }

                if (!inside[((y - 1) * w) + x])
                {
                    Edge(Corner(x, y), Corner(x + 1, y)); // top side, going right
                }

                if (!inside[(y * w) + x + 1])
                {
                    Edge(Corner(x + 1, y), Corner(x + 1, y + 1)); // right side, going down
                }

                if (!inside[((y + 1) * w) + x])
                {
                    Edge(Corner(x + 1, y + 1), Corner(x, y + 1)); // bottom side, going left
                }

                if (!inside[(y * w) + x - 1])
                {
                    Edge(Corner(x, y + 1), Corner(x, y)); // left side, going up
                }
            }
        }

        // Link edges into rings. Where two rings touch at a corner (diagonal pixels), turn right first: that keeps
        // 4-connected parts separate, as the rasteriser sees them.
        var rings = new List<List<(int X, int Y)>>();
        while (outgoing.Count > 0)
        {
            int start = outgoing.Keys.First();
            var ring = new List<(int, int)>();
            int current = start;
            int previous = -1;
            while (true)
            {
                List<int> choices = outgoing[current];
                int next = choices.Count == 1 || previous < 0 ? choices[0] : RightTurn(previous, current, choices, w + 1);
                choices.Remove(next);
                if (choices.Count == 0)
                {
                    outgoing.Remove(current);
                }

                ring.Add((current % (w + 1), current / (w + 1)));
                previous = current;
                current = next;
                if (current == start && (!outgoing.ContainsKey(current) || previous >= 0))
                {
                    break;
                }
            }

            rings.Add(ring);
        }

        // Outer rings run clockwise on screen (positive area with y down); holes the other way.
        var outers = new List<(double[] Points, double Area)>();
        var holes = new List<double[]>();
        foreach (List<(int X, int Y)> ring in rings)
        {
            double[] points = Simplify(ring, tolerance, xs - 1, ys - 1);
            double area = SignedArea(ring);
            if (area > 0)
            {
                outers.Add((points, area));
            }
            else
            {
                holes.Add(points);
            }
        }

        var polygons = outers.Select(o => (o.Points, o.Area, Holes: new List<double[]>())).ToList();
        foreach (double[] hole in holes)
        {
            // A hole belongs to the smallest outer ring around one of its points.
            var owner = polygons
                .Where(p => Contains(p.Points, hole[0], hole[1]))
                .OrderBy(p => p.Area)
                .FirstOrDefault();
            owner.Holes?.Add(hole);
        }

        return [.. polygons.Select(p => new MaskPolygon(p.Points, p.Holes))];
    }

    private static int RightTurn(int previous, int current, List<int> choices, int stride)
    {
        int dx = (current % stride) - (previous % stride);
        int dy = (current / stride) - (previous / stride);

        // Turning right from direction (dx, dy) with y down is (−dy, dx).
        foreach (int choice in choices)
        {
            int cx = (choice % stride) - (current % stride);
            int cy = (choice / stride) - (current / stride);
            if (cx == -dy && cy == dx)
            {
                return choice;
            }
        }

        return choices[0];
    }

    private static double SignedArea(List<(int X, int Y)> ring)
    {
        long twice = 0;
        for (int i = 0; i < ring.Count; i++)
        {
            (int x0, int y0) = ring[i];
            (int x1, int y1) = ring[(i + 1) % ring.Count];
            twice += ((long)x0 * y1) - ((long)x1 * y0);
        }

        return twice / 2.0;
    }

    /// <summary>Drops collinear corners, then Douglas–Peucker within <paramref name="tolerance"/>; shifts to image pixels.</summary>
    private static double[] Simplify(List<(int X, int Y)> ring, double tolerance, int offsetX, int offsetY)
    {
        var corners = new List<(double X, double Y)>();
        for (int i = 0; i < ring.Count; i++)
        {
            (int px, int py) = ring[(i - 1 + ring.Count) % ring.Count];
            (int x, int y) = ring[i];
            (int nx, int ny) = ring[(i + 1) % ring.Count];
            if (((x - px) * (ny - y)) - ((y - py) * (nx - x)) != 0)
            {
                corners.Add((x + offsetX, y + offsetY));
            }
        }

        List<(double X, double Y)> kept = corners;
        if (tolerance > 0 && corners.Count > 4)
        {
            // Split the closed ring at its first corner and the corner farthest from it; simplify both halves.
            int far = 0;
            double best = -1;
            for (int i = 1; i < corners.Count; i++)
            {
                double d = Math.Pow(corners[i].X - corners[0].X, 2) + Math.Pow(corners[i].Y - corners[0].Y, 2);
                if (d > best)
                {
                    best = d;
                    far = i;
                }
            }

            var keep = new bool[corners.Count + 1];
            keep[0] = keep[far] = keep[corners.Count] = true;
            var closed = new List<(double X, double Y)>(corners) { corners[0] };
            DouglasPeucker(closed, 0, far, tolerance, keep);
            DouglasPeucker(closed, far, corners.Count, tolerance, keep);
            kept = [];
            for (int i = 0; i < corners.Count; i++)
            {
                if (keep[i])
                {
                    kept.Add(corners[i]);
                }
            }

            if (kept.Count < 3)
            {
                kept = corners;
            }
        }

        double[] points = new double[kept.Count * 2];
        for (int i = 0; i < kept.Count; i++)
        {
            points[2 * i] = kept[i].X;
            points[(2 * i) + 1] = kept[i].Y;
        }

        return points;
    }

    private static void DouglasPeucker(List<(double X, double Y)> points, int first, int last, double tolerance, bool[] keep)
    {
        if (last <= first + 1)
        {
            return;
        }

        (double ax, double ay) = points[first];
        (double bx, double by) = points[last];
        double length = Math.Sqrt(((bx - ax) * (bx - ax)) + ((by - ay) * (by - ay)));
        int index = -1;
        double farthest = tolerance;
        for (int i = first + 1; i < last; i++)
        {
            (double px, double py) = points[i];
            double distance = length == 0
                ? Math.Sqrt(((px - ax) * (px - ax)) + ((py - ay) * (py - ay)))
                : Math.Abs(((bx - ax) * (ay - py)) - ((ax - px) * (by - ay))) / length;
            if (distance > farthest)
            {
                farthest = distance;
                index = i;
            }
        }

        if (index < 0)
        {
            return;
        }

        keep[index] = true;
        DouglasPeucker(points, first, index, tolerance, keep);
        DouglasPeucker(points, index, last, tolerance, keep);
    }

    private static bool Contains(double[] polygon, double x, double y)
    {
        // Even–odd rule, probing a hair inside the pixel grid to stay off shared edges.
        x += 0.25;
        y += 0.25;
        bool inside = false;
        int n = polygon.Length / 2;
        for (int i = 0, j = n - 1; i < n; j = i++)
        {
            double xi = polygon[2 * i], yi = polygon[(2 * i) + 1], xj = polygon[2 * j], yj = polygon[(2 * j) + 1];
            if ((yi > y) != (yj > y) && x < ((xj - xi) * (y - yi) / (yj - yi)) + xi)
            {
                inside = !inside;
            }
        }

        return inside;
    }
}
