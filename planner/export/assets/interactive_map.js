/* The planner's interactive map: builds Leaflet layers from the JSON embedded in the page.
 * Every string from the data reaches the page through textContent (never innerHTML), and layer
 * names given to Leaflet's layer control are fixed strings of this file (region layers: fixed strings
 * of interactive_map.py). Without suppliers (data.supply null) the page has no supply layers. */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("planner-data").textContent);
  var numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  // below 100: four significant digits, as the console and the report (a capacity of 4.4e-6 had read 0)
  var smallFormat = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });

  function number(value, unit) {
    if (value === null || value === undefined) return "n/a";
    var text = Math.abs(value) >= 100 ? numberFormat.format(value) : smallFormat.format(value);
    return unit ? text + " " + unit : text;
  }

  // a share strictly between 0 and 1 never reads 0 % or 100 % (as in the report): 1 unit unmet of 36,000 had
  // read "unmet 0 %" beside a region coloured "up to 10 %"; up to six decimals, then the nearest short of the end
  function percent(value) {
    if (value === null || value === undefined) return "n/a";
    for (var digits = 2; digits <= 6; digits++) {
      var text = new Intl.NumberFormat("en-US", { maximumFractionDigits: digits }).format(100 * value);
      var shown = Number(text.replace(/,/g, ""));
      if ((shown < 100 || value >= 1) && (shown > 0 || value <= 0)) return text + " %";
    }
    return (value > 0.5 ? "99.999999" : "0.000001") + " %";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function table(heading, rows) {
    var wrapper = element("div", "planner-popup");
    wrapper.appendChild(element("strong", null, heading));
    var body = element("table");
    rows.forEach(function (row) {
      var line = element("tr");
      line.appendChild(element("th", null, row[0]));
      line.appendChild(element("td", null, row[1]));
      body.appendChild(line);
    });
    wrapper.appendChild(body);
    return wrapper;
  }

  document.getElementById("planner-title").textContent = data.title;
  var map = L.map("map", { zoomSnap: 0.25, attributionControl: Boolean(data.basemap) });
  if (data.basemap) map.attributionControl.setPrefix(false);
  [["planner-regions", 410], ["planner-inbound", 415], ["planner-flows", 420], ["planner-suppliers", 425],
   ["planner-sites", 430]].forEach(function (pane) {
    map.createPane(pane[0]).style.zIndex = pane[1];
  });
  var currency = data.currency;
  var perYear = data.per_year || currency + "/yr";  // a classic objective kind's measure, or money
  var perUnit = data.per_unit || currency + "/unit";

  // regions: one GeoJSON layer per colouring, shown as base layers (one at a time)
  var regionLayers = data.region_layers.map(function (spec, position) {
    function style(feature) {
      return {
        pane: "planner-regions",
        color: "#ffffff",
        weight: 0.5,
        fillColor: spec.colours[feature.properties.c[position]],
        fillOpacity: 0.6,
      };
    }
    return L.geoJSON(data.regions, {
      style: style,
      pointToLayer: function (feature, latlng) {
        var options = style(feature);
        options.radius = 6;
        options.color = "#555555";
        options.fillOpacity = 0.8;
        return L.circleMarker(latlng, options);
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(function () {
          var p = feature.properties;
          return table(p.name, [
            ["region", p.id],
            ["mainly served by", p.served_by],
            ["demand", number(p.demand, "units/yr")],
            ["unmet", percent(p.unmet_share)],
            ["cost to serve", number(p.cost_to_serve, perUnit)],
          ]);
        });
      },
    });
  });

  // flows: lines from site to the region's demand point, weight ~ quantity
  var flows = data.flows;
  var flowLayer = L.layerGroup();
  for (var f = 0; f < flows.quantity.length; f++) {
    (function (i) {
      var line = L.polyline(flows.path[i], {
        pane: "planner-flows",
        color: "#444444",
        opacity: 0.45,
        weight: flows.weight[i],
      });
      line.bindPopup(function () {
        var rows = [
          ["facility type", flows.type[i]],
          ["product", flows.product[i]],
          ["quantity", number(flows.quantity[i], "units/yr")],
          ["distance", number(flows.distance_km[i], "km")],
        ];
        if (flows.minutes) rows.push(["delivery time", number(flows.minutes[i], "min")]);  // service levels in minutes
        rows.push(["cost", number(flows.cost[i], perYear)]);
        return table(flows.site[i] + " \u2192 " + flows.region[i], rows);
      });
      flowLayer.addLayer(line);
    })(f);
  }

  // sites: circle markers coloured by type, area ~ capacity
  var sites = data.sites;
  var siteLayer = L.featureGroup();
  for (var s = 0; s < sites.id.length; s++) {
    (function (i) {
      var marker = L.circleMarker([sites.lat[i], sites.lon[i]], {
        pane: "planner-sites",
        radius: sites.radius[i],
        color: "#000000",
        weight: 1,
        fillColor: sites.colour[i],
        fillOpacity: 0.9,
      });
      marker.bindPopup(function () {
        return table("site " + sites.id[i], [
          ["type", sites.type[i]],
          ["modules", number(sites.modules[i])],
          ["capacity", sites.capacity[i] === null ? "unlimited" : number(sites.capacity[i], "units/yr")],
          ["production", number(sites.production[i], "units/yr")],
          ["utilisation", percent(sites.utilization[i])],
          ["fixed cost", number(sites.fixed_cost[i], perYear)],
        ]);
      });
      siteLayer.addLayer(marker);
    })(s);
  }

  // inbound supply (only with suppliers): triangles coloured by material (open when they ship nothing)
  // and lines from supplier to site, weight ~ quantity of material
  function triangle(colour, filled, size) {
    var svg = L.SVG.create("svg");  // Leaflet's helper: an element in the SVG namespace
    svg.setAttribute("width", String(size));
    svg.setAttribute("height", String(size));
    svg.setAttribute("viewBox", "0 0 12 12");
    var shape = L.SVG.create("polygon");
    shape.setAttribute("points", "6,1 11,11 1,11");
    shape.setAttribute("fill", filled ? colour : "#ffffff");
    shape.setAttribute("stroke", filled ? "#000000" : colour);
    shape.setAttribute("stroke-width", filled ? "0.8" : "1.6");
    svg.appendChild(shape);
    return svg;
  }

  var supply = data.supply;
  var supplierLayer = L.featureGroup();
  var inboundLayer = L.layerGroup();
  if (supply) {
    var inbound = supply.inbound;
    for (var b = 0; b < inbound.supplier.length; b++) {
      (function (i) {
        var line = L.polyline(inbound.path[i], {
          pane: "planner-inbound",
          color: supply.line_colour,
          opacity: 0.55,
          weight: inbound.weight[i],
        });
        line.bindPopup(function () {
          return table(inbound.supplier[i] + " \u2192 " + inbound.site[i], [
            ["supplier", inbound.supplier[i]],
            ["site", inbound.site[i]],
            ["material", inbound.material[i]],
            ["quantity", number(inbound.quantity[i], "units/yr")],
            ["distance", number(inbound.distance_km[i], "km")],
            ["cost", number(inbound.cost[i], currency + "/yr")],
          ]);
        });
        inboundLayer.addLayer(line);
      })(b);
    }
    var suppliers = supply.suppliers;
    for (var j = 0; j < suppliers.id.length; j++) {
      (function (i) {
        var ships = suppliers.shipped[i] === null || suppliers.shipped[i] > 0;
        var icon = L.divIcon({
          className: "planner-supplier",
          html: triangle(suppliers.colour[i], ships, 14),
          iconSize: [14, 14],
          iconAnchor: [7, 8],
          popupAnchor: [0, -6],
        });
        var marker = L.marker([suppliers.lat[i], suppliers.lon[i]], { icon: icon, pane: "planner-suppliers" });
        marker.bindPopup(function () {
          return table("supplier " + suppliers.id[i], [
            ["material", suppliers.material[i]],
            ["capacity", suppliers.capacity[i] === null ? "unlimited" : number(suppliers.capacity[i], "units/yr")],
            ["price", number(suppliers.price[i], currency + "/unit")],
            ["shipped", number(suppliers.shipped[i], "units/yr")],
          ]);
        });
        supplierLayer.addLayer(marker);
      })(j);
    }
  }

  // legend: the current region colouring, the site types and the flows
  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () {
    this.container = element("div", "planner-legend");
    return this.container;
  };
  legend.show = function (position) {
    var spec = data.region_layers[position];
    var box = this.container;
    box.replaceChildren(element("strong", null, spec.title));
    function entry(swatchClass, colour, label) {
      var row = element("div", "planner-legend-row");
      var swatch = element("span", swatchClass);
      swatch.style.background = colour;
      row.appendChild(swatch);
      row.appendChild(element("span", null, label));
      box.appendChild(row);
    }
    spec.legend.forEach(function (item) { entry("planner-swatch", item[0], item[1]); });
    if (data.site_legend.length) {
      box.appendChild(element("strong", null, "Sites (area ~ " + data.site_size + ")"));
      data.site_legend.forEach(function (item) { entry("planner-dot", item[0], item[1]); });
    }
    if (flows.quantity.length) {
      box.appendChild(element("strong", null, "Flows"));
      entry("planner-line", "#444444", "width ~ quantity");
    }
    if (supply && supply.legend.length) {
      box.appendChild(element("strong", null, "Suppliers (open: ships nothing)"));
      supply.legend.forEach(function (item) {
        var row = element("div", "planner-legend-row");
        row.appendChild(triangle(item[0], true, 12));
        row.appendChild(element("span", null, item[1]));
        box.appendChild(row);
      });
    }
    if (supply && supply.inbound.supplier.length) {
      box.appendChild(element("strong", null, "Inbound flows"));
      entry("planner-line", supply.line_colour, "width ~ quantity of material");
    }
  };

  var baseLayers = {};
  data.region_layers.forEach(function (spec, position) { baseLayers[spec.label] = regionLayers[position]; });
  var overlays = { "Flows": flowLayer, "Sites": siteLayer };
  if (supply) {
    overlays = { "Inbound flows": inboundLayer, "Flows": flowLayer, "Suppliers": supplierLayer, "Sites": siteLayer };
  }
  if (data.basemap) {
    var tiles = L.tileLayer(data.basemap.url, { maxZoom: 19, attribution: data.basemap.attribution });
    overlays["OpenStreetMap"] = tiles;
    tiles.addTo(map);
  }
  regionLayers[0].addTo(map);
  if (supply) inboundLayer.addTo(map);
  flowLayer.addTo(map);
  if (supply) supplierLayer.addTo(map);
  siteLayer.addTo(map);
  L.control.layers(baseLayers, overlays, { collapsed: false, position: "topright" }).addTo(map);
  legend.addTo(map);
  legend.show(0);
  map.on("baselayerchange", function (event) {
    legend.show(regionLayers.indexOf(event.layer));
  });
  L.control.scale({ position: "bottomright" }).addTo(map);

  var bounds = regionLayers[0].getBounds();
  if (sites.id.length) bounds.extend(siteLayer.getBounds());
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 12 });
  } else {
    map.setView([0, 0], 2);
  }
})();
